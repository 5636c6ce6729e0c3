package lambdakit_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// countingPublisher records the size of every Publish call.
type countingPublisher struct {
	mu    sync.Mutex
	calls []int
	inner jobmsg.Publisher
}

func (c *countingPublisher) Publish(ctx context.Context, topic string, msgs []jobmsg.Message) []error {
	c.mu.Lock()
	c.calls = append(c.calls, len(msgs))
	c.mu.Unlock()
	return c.inner.Publish(ctx, topic, msgs)
}

// TestOutcomesOfOneInvocationArePublishedTogether: the outcomes of records
// that finish together go out in calls of up to ten (one SNS PublishBatch
// each), not one call per record; each record still gets its own result.
func TestOutcomesOfOneInvocationArePublishedTogether(t *testing.T) {
	// Typically one call of 10, or 10, 10 and 5; a loaded machine may split
	// a batch at the linger, so the test asks for batching, not for the split.
	for _, tt := range []struct {
		records  int
		maxCalls int
	}{
		{1, 1},
		{10, 3},
		{25, 8},
	} {
		t.Run(fmt.Sprint(tt.records, " records"), func(t *testing.T) {
			pub := &countingPublisher{inner: &fakePublisher{}}
			h, err := lambdakit.New(book, testConfig(pub))
			require.NoError(t, err)
			var recs []events.SQSMessage
			for i := range tt.records {
				recs = append(recs, jobRecord(t, fmt.Sprint("m", i), fmt.Sprintf(`{"tripId":"t%d"}`, i), func(j *jobmsg.Job) { j.Key = int64(1000 + i) }))
			}
			resp := invoke(context.Background(), t, h, recs...)
			assert.Empty(t, resp.BatchItemFailures)
			assert.LessOrEqual(t, len(pub.calls), tt.maxCalls, "calls: %v", pub.calls)
			total := 0
			for _, n := range pub.calls {
				assert.LessOrEqual(t, n, 10, "at most one PublishBatch per call")
				total += n
			}
			assert.Equal(t, tt.records, total)
			assert.Len(t, pub.inner.(*fakePublisher).published(), tt.records, "every outcome published once")
		})
	}
	t.Run("one message of the batch refused", func(t *testing.T) {
		pub := &countingPublisher{inner: &selectivePublisher{fail: "lost-trip"}}
		dl := &fakeDeadLetters{}
		cfg := testConfig(pub)
		cfg.DeadLetters = dl
		h, err := lambdakit.New(book, cfg)
		require.NoError(t, err)
		resp := invoke(context.Background(), t, h,
			jobRecord(t, "a", `{"tripId":"t1"}`, func(j *jobmsg.Job) { j.Key = 1 }),
			jobRecord(t, "lost", `{"tripId":"lost-trip"}`, func(j *jobmsg.Job) { j.Key = 2 }),
			jobRecord(t, "b", `{"tripId":"t3"}`, func(j *jobmsg.Job) { j.Key = 3 }))
		assert.Empty(t, resp.BatchItemFailures)
		assert.LessOrEqual(t, len(pub.calls), 2, "batched: %v", pub.calls)
		assert.Equal(t, []string{"lost"}, keys(dl.reasons), "only the refused one goes to the DLQ")
		assert.Equal(t, 2, pub.inner.(*selectivePublisher).ok)
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
