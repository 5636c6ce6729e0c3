package fulfiller_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// memLeases is fulfiller.Leases in memory.
type memLeases struct {
	mu sync.Mutex
	m  map[[2]int64]time.Time
}

func (l *memLeases) Get(_ context.Context, job, act int64) (time.Time, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.m[[2]int64{job, act}]
	return u, ok, nil
}

func (l *memLeases) Put(_ context.Context, job, act int64, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[[2]int64]time.Time{}
	}
	l.m[[2]int64{job, act}] = until
	return nil
}

func (l *memLeases) Delete(_ context.Context, job, act int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, [2]int64{job, act})
	return nil
}

// captured keeps what a completion.Client publishes.
type captured struct{ msgs []jobmsg.Message }

func (c *captured) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	c.msgs = append(c.msgs, msgs...)
	return make([]error, len(msgs))
}

// TestAsynchronousCompletion: messages sent through a completion token are
// applied while their activation is alive (before its first deadline, or
// within the lease its last heartbeat set) and acknowledged as duplicates,
// never applied, once it has ended.
func TestAsynchronousCompletion(t *testing.T) {
	key := jobtoken.Key{ID: "k1", Secret: strings.Repeat("s", 32)}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	deadline := t0.Add(15 * time.Second)
	job := jobmsg.Job{Key: 7, ProcessInstanceKey: 3, Retries: 3, Deadline: deadline.UnixMilli(),
		CustomHeaders: map[string]string{"identifier": "long-work", "timeout": "PT15S"}}
	job.Token = jobtoken.Sign(key, job.Key, job.Deadline, job.Identifier())
	tok, err := completion.NewToken(job)
	require.NoError(t, err)

	type step struct {
		at        time.Duration // after t0
		send      func(c *completion.Client) error
		zeebeErr  error
		wantCalls []string
		wantClass string // applied | duplicate | dlq
	}
	heartbeat := func(c *completion.Client) error { return c.Heartbeat(context.Background(), tok.String(), 0) }
	complete := func(c *completion.Client) error {
		return c.Complete(context.Background(), tok.String(), map[string]any{"done": true})
	}
	tests := []struct {
		name   string
		leases bool
		steps  []step
	}{
		{name: "completed before the first deadline", leases: true, steps: []step{
			{at: 10 * time.Second, send: complete, wantCalls: []string{"complete"}, wantClass: "applied"},
		}},
		{name: "heartbeats keep the activation alive past its first deadline", leases: true, steps: []step{
			{at: 5 * time.Second, send: heartbeat, wantCalls: []string{"timeout"}, wantClass: "applied"},
			{at: 10 * time.Second, send: heartbeat, wantCalls: []string{"timeout"}, wantClass: "applied"},
			{at: 20 * time.Second, send: heartbeat, wantCalls: []string{"timeout"}, wantClass: "applied"},
			{at: 30 * time.Second, send: complete, wantCalls: []string{"complete"}, wantClass: "applied"},
		}},
		{name: "a completion after the lease ended is a duplicate", leases: true, steps: []step{
			{at: 5 * time.Second, send: heartbeat, wantCalls: []string{"timeout"}, wantClass: "applied"},
			{at: 40 * time.Second, send: complete, wantClass: "duplicate"},
		}},
		{name: "a heartbeat after the lease ended is a duplicate", leases: true, steps: []step{
			{at: 14 * time.Second, send: heartbeat, wantClass: "duplicate"},
		}},
		{name: "a completion after the first deadline, without heartbeats, is a duplicate", leases: true, steps: []step{
			{at: 16 * time.Second, send: complete, wantClass: "duplicate"},
		}},
		{name: "a heartbeat Zeebe refuses (the job is no longer activated) is a duplicate", leases: true, steps: []step{
			{at: 5 * time.Second, send: heartbeat, zeebeErr: status.Error(codes.FailedPrecondition, "not activated"), wantCalls: []string{"timeout"}, wantClass: "duplicate"},
			{at: 16 * time.Second, send: complete, wantClass: "duplicate"},
		}},
		{name: "without a lease store heartbeats go to the DLQ", leases: false, steps: []step{
			{at: 5 * time.Second, send: heartbeat, wantClass: "dlq"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zb := &fakeZeebe{}
			rd := &fakeRedelivery{}
			var now time.Time
			h := fulfiller.New(zb, joblog.Discard())
			h.Redelivery = rd
			h.Now = func() time.Time { return now }
			h.Verifier = jobtoken.Verifier{Keys: jobtoken.Static(jobtoken.Keyring{Current: key}), Now: func() time.Time { return now }}
			leases := &memLeases{}
			if tt.leases {
				h.Leases = leases
			}
			for i, s := range tt.steps {
				now = t0.Add(s.at)
				zb.calls, zb.err = nil, s.zeebeErr
				pub := &captured{}
				require.NoError(t, s.send(&completion.Client{Publisher: pub, TopicARN: "arn:topic"}))
				require.Len(t, pub.msgs, 1)
				o, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
				require.NoError(t, err)
				id := string(rune('a' + i))
				resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record(t, id, o, true)}})
				require.NoError(t, err)
				var ops []string
				for _, c := range zb.calls {
					ops = append(ops, c.Op)
					if c.Op == "timeout" {
						assert.Equal(t, 15*time.Second, c.Backoff, "the task header's timeout")
					}
				}
				assert.Equal(t, s.wantCalls, ops, "step %d", i)
				assert.Empty(t, resp.BatchItemFailures)
				switch s.wantClass {
				case "dlq":
					assert.Contains(t, rd.deadLetters[id], "lease store")
				default:
					assert.Empty(t, rd.deadLetters, "step %d", i)
				}
				if s.wantClass == "applied" && o.Outcome == jobmsg.Heartbeat {
					until, ok, _ := leases.Get(context.Background(), job.Key, job.Deadline)
					require.True(t, ok)
					assert.Equal(t, now.Add(15*time.Second), until)
				}
				if s.wantClass == "applied" && o.Outcome == jobmsg.Complete {
					_, ok, _ := leases.Get(context.Background(), job.Key, job.Deadline)
					assert.False(t, ok, "the lease is gone once the job is answered")
				}
			}
		})
	}
}
