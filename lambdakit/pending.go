package lambdakit

import (
	"context"
	"errors"
	"fmt"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
)

// ErrResultPending, returned by a handler (it may be wrapped), says the
// work goes on after the invocation: lambdakit publishes no outcome and the
// job stays with its activation until whoever holds its completion token
// completes, fails or throws on it (package completion), sending heartbeats
// meanwhile if the work outlasts the job's timeout. As with Temporal's
// activity.ErrResultPending, the handler takes the token first.
var ErrResultPending = errors.New("lambdakit: result pending; the job is finished later through its completion token")

// kindPending is run's answer for a handler that returned ErrResultPending;
// it never goes on the wire.
const kindPending = "pending"

// CompletionToken returns the completion token of the job a handler runs
// for, to hand to the work that finishes the job later (see
// ErrResultPending). It fails for a direct invocation, which has no job.
func CompletionToken(ctx context.Context) (string, error) {
	j, ok := JobFromContext(ctx)
	if !ok {
		return "", errors.New("lambdakit: no completion token: the handler is not running for a job (a direct invocation)")
	}
	t, err := completion.NewToken(j)
	if err != nil {
		return "", fmt.Errorf("lambdakit: completion token of job %d: %w", j.Key, err)
	}
	return t.String(), nil
}
