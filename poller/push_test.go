package poller_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

// fakeStreamer pushes its jobs, then holds the stream open until ctx ends;
// err ends every stream at once instead.
type fakeStreamer struct {
	mu     sync.Mutex
	jobs   []jobmsg.Job
	err    error
	opened int
	sent   int // jobs handed to the poller
}

func (f *fakeStreamer) StreamJobs(ctx context.Context, _, _ string, _ time.Duration, out chan<- jobmsg.Job) error {
	f.mu.Lock()
	f.opened++
	jobs, err := f.jobs, f.err
	f.jobs = nil
	f.mu.Unlock()
	if err != nil {
		return err
	}
	for _, j := range jobs {
		out <- j
		f.mu.Lock()
		f.sent++
		f.mu.Unlock()
	}
	<-ctx.Done()
	return nil
}

// slowPublisher takes delay for every call, as a slow SNS would.
type slowPublisher struct {
	fakePublisher
	delay time.Duration
}

func (p *slowPublisher) Publish(ctx context.Context, topic string, msgs []jobmsg.Message) []error {
	time.Sleep(p.delay)
	return p.fakePublisher.Publish(ctx, topic, msgs)
}

func TestRunPush(t *testing.T) {
	pushed, polled := jobs(40), jobs(45)[40:]
	for _, tt := range []struct {
		name      string
		streamErr error
		streamed  []jobmsg.Job
		polled    []jobmsg.Job
		want      int
	}{
		{"jobs pushed and jobs polled are all published once", nil, pushed, polled, 45},
		{"a gateway without job push: long polling alone", status.Error(codes.Unimplemented, "no streams"), nil, polled, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStreamer{jobs: tt.streamed, err: tt.streamErr}
			zb := &fakeZeebe{script: []activation{{jobs: tt.polled}}}
			pub := &slowPublisher{delay: 20 * time.Millisecond}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan poller.Stats)
			go func() { done <- poller.RunPush(ctx, cfg(), zb, st, pub, joblog.Discard()) }()
			require.Eventually(t, func() bool { return len(pub.jobs(t)) == tt.want }, 5*time.Second, 10*time.Millisecond)
			cancel()
			stats := <-done
			assert.Equal(t, tt.want, stats.Published)
			assert.Equal(t, tt.want, stats.Activated)
			assert.Len(t, pub.jobs(t), tt.want, "each job once")
			assert.Equal(t, 1, st.opened, "no stream reopened")
		})
	}
}

// gatedPublisher holds every Publish call until the gate opens, counting
// the calls under way.
type gatedPublisher struct {
	fakePublisher
	gate    chan struct{}
	mu      sync.Mutex
	waiting int
}

func (p *gatedPublisher) Publish(ctx context.Context, topic string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	p.waiting++
	p.mu.Unlock()
	<-p.gate
	return p.fakePublisher.Publish(ctx, topic, msgs)
}

func (p *gatedPublisher) underWay() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}

// TestRunPushIsPipelined: while SNS does not answer, the stream is still
// read to its end, and several batches are being published at once.
func TestRunPushIsPipelined(t *testing.T) {
	const n = 100
	st := &fakeStreamer{jobs: jobs(n)}
	pub := &gatedPublisher{gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan poller.Stats)
	go func() { done <- poller.RunPush(ctx, cfg(), &fakeZeebe{}, st, pub, joblog.Discard()) }()
	require.Eventually(t, func() bool { return pub.underWay() >= 2 }, 5*time.Second, time.Millisecond,
		"several publishes under way at once")
	require.Eventually(t, func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.sent == n
	}, 5*time.Second, time.Millisecond, "the stream was read to its end while SNS hung")
	close(pub.gate)
	require.Eventually(t, func() bool { return len(pub.jobs(t)) == n }, 5*time.Second, 10*time.Millisecond)
	cancel()
	assert.Equal(t, n, (<-done).Published)
}

// TestRunPushPublishesWhatItHoldsAfterCancel: jobs received before the
// cancellation are still published.
func TestRunPushPublishesWhatItHoldsAfterCancel(t *testing.T) {
	st := &fakeStreamer{jobs: jobs(10)}
	pub := &slowPublisher{delay: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan poller.Stats)
	go func() { done <- poller.RunPush(ctx, cfg(), &fakeZeebe{}, st, pub, joblog.Discard()) }()
	// Every job received from the stream, their publishing under way (each
	// call takes 300 ms): then the cancellation.
	require.Eventually(t, func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.sent == 10
	}, 5*time.Second, time.Millisecond, "the stream delivered its jobs")
	cancel()
	stats := <-done
	assert.Equal(t, 10, stats.Published)
	assert.Len(t, pub.jobs(t), 10)
}

// TestRunIsPipelined: the scheduled poller too keeps activating while SNS
// does not answer, and jobs of several small activations leave together, in
// batches of up to ten, one PublishBatch each.
func TestRunIsPipelined(t *testing.T) {
	all := jobs(40)
	var script []activation
	for i := 0; i < len(all); i += 2 {
		script = append(script, activation{jobs: all[i : i+2]})
	}
	zb := &fakeZeebe{script: script}
	pub := &gatedPublisher{gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan poller.Stats)
	go func() {
		st, _ := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
		done <- st
	}()
	require.Eventually(t, func() bool {
		zb.mu.Lock()
		defer zb.mu.Unlock()
		return len(zb.script) == 0
	}, 5*time.Second, time.Millisecond, "all 20 activations answered while SNS hung")
	close(pub.gate)
	require.Eventually(t, func() bool { return len(pub.jobs(t)) == len(all) }, 5*time.Second, 10*time.Millisecond)
	cancel()
	st := <-done
	assert.Equal(t, len(all), st.Published)
	pub.fakePublisher.mu.Lock()
	defer pub.fakePublisher.mu.Unlock()
	// One call per activation would be 20.
	assert.LessOrEqual(t, pub.calls, 5, "40 jobs from 20 activations in batches of up to ten")
}
