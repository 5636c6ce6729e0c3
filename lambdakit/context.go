package lambdakit

import (
	"context"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

type jobKey struct{}

func withJob(ctx context.Context, j jobmsg.Job) context.Context {
	j.Variables = nil // the handler has them, typed
	return context.WithValue(ctx, jobKey{}, j)
}

// JobFromContext returns the job a handler is running for: its keys, element,
// task headers and retries left. It reports false for a direct invocation.
func JobFromContext(ctx context.Context) (jobmsg.Job, bool) {
	j, ok := ctx.Value(jobKey{}).(jobmsg.Job)
	return j, ok
}
