package lambdakit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// TestHandlerOutlivingTheJobDeadlineFailsTheJob: the handler's context ends
// at the earlier of the Lambda deadline and the job's deadline, each less the
// margin (100 ms here), and the job is failed once with retries - 1 while the
// activation is still the job's.
func TestHandlerOutlivingTheJobDeadlineFailsTheJob(t *testing.T) {
	for _, tt := range []struct {
		name        string
		lambda      time.Duration // 0: the invocation has no deadline
		job         time.Duration // the job's deadline from now
		minElapsed  time.Duration
		maxElapsed  time.Duration
		wantMessage string
	}{
		{name: "job deadline before the Lambda's", lambda: 10 * time.Second, job: 400 * time.Millisecond,
			minElapsed: 250 * time.Millisecond, maxElapsed: 400 * time.Millisecond, wantMessage: "handler timed out: still running 100ms before the job's deadline"},
		{name: "no Lambda deadline", job: 400 * time.Millisecond,
			minElapsed: 250 * time.Millisecond, maxElapsed: 400 * time.Millisecond, wantMessage: "handler timed out: still running 100ms before the job's deadline"},
		{name: "Lambda deadline before the job's", lambda: 400 * time.Millisecond, job: 10 * time.Second,
			minElapsed: 250 * time.Millisecond, maxElapsed: 400 * time.Millisecond, wantMessage: "handler timed out: still running 100ms before the Lambda deadline"},
		{name: "job deadline within the margin", lambda: 10 * time.Second, job: 50 * time.Millisecond,
			maxElapsed: 100 * time.Millisecond, wantMessage: "handler timed out before it started: less than 100ms (DEADLINE_MARGIN) was left before the job's deadline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			ctx := context.Background()
			if tt.lambda > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.lambda)
				defer cancel()
			}
			rec := jobRecord(t, "m1", `{"fail":"block"}`, func(j *jobmsg.Job) { j.Deadline = now().Add(tt.job).UnixMilli() })
			start := time.Now()
			resp := invoke(ctx, t, newHandler(t, pub), rec)
			elapsed := time.Since(start)

			assert.Empty(t, resp.BatchItemFailures, "the failure was published: the record is done")
			assert.GreaterOrEqual(t, elapsed, tt.minElapsed, "the handler gets the time up to the margin")
			assert.Less(t, elapsed, tt.maxElapsed, "the failure is published before the deadline")
			require.Len(t, pub.outcomes, 1, "failed once")
			got := pub.outcomes[0]
			assert.Equal(t, jobmsg.Fail, got.Outcome)
			assert.Equal(t, int32(2), got.Retries, "retries - 1")
			assert.Contains(t, got.ErrorMessage, tt.wantMessage)
		})
	}
}
