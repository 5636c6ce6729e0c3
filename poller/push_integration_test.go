//go:build integration

package poller_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

// stampingPublisher notes when each job was published.
type stampingPublisher struct {
	mu sync.Mutex
	at map[int64]time.Time
}

func (p *stampingPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for _, m := range msgs {
		j, err := jobmsg.DecodeJob(m.Body)
		if err == nil {
			if _, dup := p.at[j.Key]; dup {
				p.at[-j.Key] = now // a second publication, found by the test
			}
			p.at[j.Key] = now
		}
	}
	return make([]error, len(msgs))
}

// TestRunPushOnTheEngine: jobs created while the stream is open reach the
// publisher through job push, each once, and one created before it opened
// through the long poll beside it. The engine is an in-process one of the
// test's own, so that the stream has it to itself.
func TestRunPushOnTheEngine(t *testing.T) {
	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	id := zeebetest.UniqueID("push")
	zeebetest.Deploy(t, zb, id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Push", id, map[string]string{"identifier": "fn"}, 3))
	early := zeebetest.Start(t, zb, id, nil)

	cfg := cfg()
	cfg.JobType, cfg.LongPoll = id, 2*time.Second
	pub := &stampingPublisher{at: map[int64]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan poller.Stats)
	client := zeebeclient.Wrap(zb)
	go func() { done <- poller.RunPush(ctx, cfg, client, client, pub, joblog.Discard()) }()
	// The poller is up once the job created before it started is published
	// (through the long poll beside the stream).
	require.Eventually(t, func() bool {
		pub.mu.Lock()
		defer pub.mu.Unlock()
		return len(pub.at) >= 1
	}, 10*time.Second, 10*time.Millisecond, "the job created before the poller started is published")

	const n = 50
	for range n {
		zeebetest.Start(t, zb, id, nil)
	}
	require.Eventually(t, func() bool {
		pub.mu.Lock()
		defer pub.mu.Unlock()
		return len(pub.at) >= n+1
	}, 20*time.Second, 20*time.Millisecond, "every job published")
	cancel()
	stats := <-done
	assert.Equal(t, n+1, stats.Published)
	pub.mu.Lock()
	defer pub.mu.Unlock()
	for k := range pub.at {
		assert.Positive(t, k, "job %d published twice", -k)
	}
	t.Logf("%d jobs published, the one created before the stream opened among them (instance %d); stats %+v", len(pub.at), early, stats)
}
