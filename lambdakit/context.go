package lambdakit

import (
	"context"
	"maps"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// jobKey is the context key of the running job; a private type, so no
// other package can collide with it.
type jobKey struct{}

func withJob(ctx context.Context, j jobmsg.Job) context.Context {
	j.Variables = nil // the handler has them, typed; no need to keep a second copy alive
	// A handler may write to the map it gets; lambdakit still reads
	// resultVariable from its own copy.
	j.CustomHeaders = maps.Clone(j.CustomHeaders)
	return context.WithValue(ctx, jobKey{}, j)
}

// JobFromContext returns the job a handler is running for: its keys,
// element, task headers, retries left and deadline. Variables is nil (the
// handler receives them as its input). It reports false for a direct
// invocation, which has no job.
func JobFromContext(ctx context.Context) (jobmsg.Job, bool) {
	j, ok := ctx.Value(jobKey{}).(jobmsg.Job)
	return j, ok
}
