package poller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

type failCall struct {
	Key     int64
	Retries int32
	Msg     string
	Backoff time.Duration
	// CtxErr is the context's error when FailJob was called: a job must be
	// handed back on a live context.
	CtxErr error
}

// activation is one scripted answer of fakeZeebe.ActivateJobs.
type activation struct {
	jobs []jobmsg.Job
	err  error
	// before runs when the activation is answered (e.g. to cancel the run).
	before func()
}

// fakeZeebe answers activations from its script, then long-polls empty until
// the request timeout.
type fakeZeebe struct {
	mu              sync.Mutex
	script          []activation
	alwaysErr       error // once the script is done: fail every activation with it
	requestTimeouts []time.Duration
	activations     []time.Time
	fails           []failCall
	timeouts        map[int64]time.Duration
	updateErr       map[int64]error
}

func (f *fakeZeebe) ActivateJobs(ctx context.Context, _, _ string, _ int32, _, requestTimeout time.Duration) ([]jobmsg.Job, error) {
	f.mu.Lock()
	f.requestTimeouts = append(f.requestTimeouts, requestTimeout)
	f.activations = append(f.activations, time.Now())
	if len(f.script) > 0 {
		a := f.script[0]
		f.script = f.script[1:]
		f.mu.Unlock()
		if a.before != nil {
			a.before()
		}
		return a.jobs, a.err
	}
	alwaysErr := f.alwaysErr
	f.mu.Unlock()
	if alwaysErr != nil {
		return nil, alwaysErr
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(requestTimeout):
		return nil, nil
	}
}

func (f *fakeZeebe) FailJob(ctx context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = append(f.fails, failCall{key, retries, msg, backoff, ctx.Err()})
	return nil
}

func (f *fakeZeebe) UpdateJobTimeout(_ context.Context, key int64, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.updateErr[key]; err != nil {
		return err
	}
	if f.timeouts == nil {
		f.timeouts = map[int64]time.Duration{}
	}
	f.timeouts[key] = timeout
	return nil
}

func (f *fakeZeebe) failsByKey() map[int64]failCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[int64]failCall{}
	for _, c := range f.fails {
		m[c.Key] = c
	}
	return m
}

type fakePublisher struct {
	mu        sync.Mutex
	published []jobmsg.Message
	calls     int
	failKeys  map[int64]bool
	// hang makes Publish wait for its context to end, as a stuck SNS would.
	hang   bool
	ctxErr error // the context's error when Publish was called
}

func (p *fakePublisher) Publish(ctx context.Context, _ string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	p.calls++
	p.ctxErr = ctx.Err()
	p.mu.Unlock()
	errs := make([]error, len(msgs))
	if p.hang {
		<-ctx.Done()
		for i := range errs {
			errs[i] = ctx.Err()
		}
		return errs
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range msgs {
		j, err := jobmsg.DecodeJob(m.Body)
		if err != nil {
			errs[i] = err
			continue
		}
		if p.failKeys[j.Key] {
			errs[i] = errors.New("sns: throttled")
			continue
		}
		p.published = append(p.published, m)
	}
	return errs
}

func (p *fakePublisher) jobs(t *testing.T) map[int64]jobmsg.Job {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int64]jobmsg.Job{}
	for _, m := range p.published {
		j, err := jobmsg.DecodeJob(m.Body)
		require.NoError(t, err)
		out[j.Key] = j
	}
	return out
}

func job(key int64, headers map[string]string) jobmsg.Job {
	return jobmsg.Job{Key: key, ProcessInstanceKey: key * 10, Type: "lambda", ElementID: fmt.Sprintf("Task_%d", key),
		BPMNProcessID: "p", CustomHeaders: headers, Retries: 3, Variables: json.RawMessage(`{}`)}
}

func jobs(n int) []jobmsg.Job {
	var out []jobmsg.Job
	for i := int64(1); i <= int64(n); i++ {
		out = append(out, job(i, map[string]string{"identifier": "fn"}))
	}
	return out
}

func cfg() poller.Config {
	return poller.Config{TopicARN: "arn:zeebe_jobs", JobType: "lambda", JobTimeout: time.Minute, MaxJobsActive: 32,
		Worker: "w", LongPoll: 20 * time.Second, SafetyMargin: 300 * time.Millisecond, PublishBackoff: 2 * time.Second}
}

// TestRunStopsBeforeDeadlineAndPublishesEverything runs against a context
// with a deadline, as in Lambda: every activated job is published before Run
// returns, no activation reaches into the safety margin, and Run returns
// before the deadline.
func TestRunStopsBeforeDeadlineAndPublishesEverything(t *testing.T) {
	t.Parallel()
	zb := &fakeZeebe{script: []activation{{jobs: jobs(25)}}}
	pub := &fakePublisher{}
	const margin = 300 * time.Millisecond
	deadline := time.Now().Add(1800 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
	require.NoError(t, err)
	returned := time.Now()

	assert.Equal(t, poller.Stats{Activated: 25, Published: 25}, st)
	assert.Len(t, pub.published, 25)
	assert.True(t, returned.Before(deadline), "Run returned %s after the deadline", returned.Sub(deadline))
	require.GreaterOrEqual(t, len(zb.requestTimeouts), 2)
	for i, rt := range zb.requestTimeouts {
		// No long poll may end inside the safety margin (give or take the
		// microseconds between Run computing the poll and the fake recording it).
		assert.False(t, zb.activations[i].Add(rt).After(deadline.Add(-margin+10*time.Millisecond)), "poll %d reaches into the safety margin", i)
	}
	// The long polls shrink as the deadline approaches.
	assert.Less(t, zb.requestTimeouts[len(zb.requestTimeouts)-1], zb.requestTimeouts[0])
	assert.True(t, zb.activations[len(zb.activations)-1].Before(deadline.Add(-margin)))
}

// With less time left than the safety margin, Run does not poll at all.
func TestRunWithNoTimeLeftDoesNotPoll(t *testing.T) {
	t.Parallel()
	zb := &fakeZeebe{}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	st, err := poller.Run(ctx, cfg(), zb, &fakePublisher{}, joblog.Discard())
	require.NoError(t, err)
	assert.Equal(t, poller.Stats{}, st)
	assert.Empty(t, zb.requestTimeouts)
}

func TestRunWithoutDeadlineRunsUntilCancelled(t *testing.T) {
	t.Parallel()
	zb := &fakeZeebe{}
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg()
	c.LongPoll = 50 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := poller.Run(ctx, c, zb, &fakePublisher{}, joblog.Discard())
		assert.NoError(t, err)
	}()
	require.Eventually(t, func() bool {
		zb.mu.Lock()
		defer zb.mu.Unlock()
		return len(zb.requestTimeouts) > 2
	}, 2*time.Second, 10*time.Millisecond, "Run keeps polling")
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	zb.mu.Lock()
	defer zb.mu.Unlock()
	assert.Greater(t, len(zb.requestTimeouts), 2)
	assert.Equal(t, 50*time.Millisecond, zb.requestTimeouts[0], "without a deadline every poll is LONG_POLL")
}

// A shutdown signal arriving while jobs are held must not stop their
// publication: the hand-off runs on a context that outlives the run's.
func TestHandOffSurvivesCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zb := &fakeZeebe{script: []activation{{jobs: jobs(3), before: cancel}}}
	pub := &fakePublisher{}
	st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
	require.NoError(t, err)
	assert.Equal(t, poller.Stats{Activated: 3, Published: 3}, st)
	assert.NoError(t, pub.ctxErr, "published on a cancelled context")
}

// A hanging SNS cannot hold the poller forever: publishing is bounded, and
// the jobs go back to Zeebe, retries unchanged, on a context still alive.
func TestHandOffIsBounded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := cfg()
	c.SafetyMargin = 400 * time.Millisecond
	zb := &fakeZeebe{script: []activation{{jobs: jobs(2), before: cancel}}}
	pub := &fakePublisher{hang: true}
	start := time.Now()
	st, err := poller.Run(ctx, c, zb, pub, joblog.Discard())
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, poller.Stats{Activated: 2, PublishFailed: 2}, st)
	fails := zb.failsByKey()
	require.Len(t, fails, 2)
	for _, f := range fails {
		assert.Equal(t, int32(3), f.Retries)
		assert.Equal(t, c.PublishBackoff, f.Backoff)
		assert.NoError(t, f.CtxErr, "job %d handed back on a dead context", f.Key)
	}
}

func TestRunHandlesBadJobs(t *testing.T) {
	t.Parallel()
	big := job(4, map[string]string{"identifier": "fn"})
	big.Variables = json.RawMessage(fmt.Sprintf(`{"x":%q}`, strings.Repeat("a", jobmsg.MaxMessageBytes)))
	batch := []jobmsg.Job{
		job(1, map[string]string{"identifier": "fn"}),
		job(2, map[string]string{}),                   // no identifier
		job(3, map[string]string{"identifier": "fn"}), // publish fails
		big, // too large for SNS
		job(5, map[string]string{"identifier": "fn", "timeout": "PT2M"}), // timeout header
		job(6, map[string]string{"identifier": "fn", "timeout": "soon"}), // bad timeout header
	}
	zb := &fakeZeebe{script: []activation{{jobs: batch}}}
	pub := &fakePublisher{failKeys: map[int64]bool{3: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()

	var logs joblogtest.Buffer
	st, err := poller.Run(ctx, cfg(), zb, pub, joblog.New(&logs, false))
	require.NoError(t, err)
	assert.Equal(t, poller.Stats{Activated: 6, Published: 2, PublishFailed: 1, Rejected: 3}, st)
	// The metrics on the log lines (EMF) count the same.
	metrics, err := emf.Totals(logs.Bytes())
	require.NoError(t, err)
	assert.Equal(t, 2.0, metrics["JobsPublished"])
	assert.Equal(t, 3.0, metrics["JobsRejected"])
	assert.Equal(t, 1.0, metrics["JobsHandedBack"])
	assert.Contains(t, metrics, "PublishMs")

	fails := zb.failsByKey()
	require.Len(t, fails, 4)

	assert.Equal(t, int32(0), fails[2].Retries, "a missing identifier must raise an incident")
	assert.Contains(t, fails[2].Msg, `"Task_2"`, "the message names the element")
	assert.Contains(t, fails[2].Msg, `"identifier"`)

	assert.Equal(t, int32(3), fails[3].Retries, "a publish failure keeps the retries")
	assert.Equal(t, 2*time.Second, fails[3].Backoff)
	assert.Contains(t, fails[3].Msg, "SNS")

	assert.Equal(t, int32(0), fails[4].Retries)
	assert.Contains(t, fails[4].Msg, "256 KiB")
	assert.Contains(t, fails[4].Msg, "Task_4")

	assert.Equal(t, int32(0), fails[6].Retries)
	assert.Contains(t, fails[6].Msg, `"timeout"`)
	assert.Contains(t, fails[6].Msg, `Task_6`)

	assert.Equal(t, 2*time.Minute, zb.timeouts[5])
	assert.NotContains(t, zb.timeouts, int64(6))
	published := pub.jobs(t)
	require.Contains(t, published, int64(5))
	assert.WithinDuration(t, time.Now().Add(2*time.Minute), published[5].DeadlineTime(), 5*time.Second,
		"the message carries the deadline the timeout header set")
	for _, k := range []int64{2, 3, 4, 6} {
		assert.NotContains(t, published, k)
	}
}

// What Zeebe answers to the timeout update decides the job's fate, by gRPC code.
func TestTimeoutUpdateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         error
		want        poller.Stats
		wantRetries int32 // of the FailJob call; -1: no call
	}{
		{"unavailable: handed back", status.Error(codes.Unavailable, "gateway down"),
			poller.Stats{Activated: 1, PublishFailed: 1}, 3},
		{"backpressure: handed back", fmt.Errorf("update: %w", status.Error(codes.ResourceExhausted, "x")),
			poller.Stats{Activated: 1, PublishFailed: 1}, 3},
		{"credentials refused: handed back, not an incident", status.Error(codes.Unauthenticated, "bad token"),
			poller.Stats{Activated: 1, PublishFailed: 1}, 3},
		{"permission denied: handed back, not an incident", status.Error(codes.PermissionDenied, "no access"),
			poller.Stats{Activated: 1, PublishFailed: 1}, 3},
		{"not found: the job is gone", status.Error(codes.NotFound, "no such job"),
			poller.Stats{Activated: 1, Gone: 1}, -1},
		{"invalid argument: incident", status.Error(codes.InvalidArgument, "bad timeout"),
			poller.Stats{Activated: 1, Rejected: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			zb := &fakeZeebe{script: []activation{{jobs: []jobmsg.Job{job(1, map[string]string{"identifier": "fn", "timeout": "PT1M"})}}},
				updateErr: map[int64]error{1: tt.err}}
			pub := &fakePublisher{}
			ctx, cancel := context.WithTimeout(context.Background(), 1400*time.Millisecond)
			defer cancel()
			st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
			require.NoError(t, err)
			assert.Equal(t, tt.want, st)
			assert.Empty(t, pub.published)
			fails := zb.failsByKey()
			if tt.wantRetries < 0 {
				assert.Empty(t, fails)
				return
			}
			require.Contains(t, fails, int64(1))
			assert.Equal(t, tt.wantRetries, fails[1].Retries)
			assert.Contains(t, fails[1].Msg, "Task_1")
		})
	}
}

func TestActivationErrors(t *testing.T) {
	t.Parallel()
	unavailable := status.Error(codes.Unavailable, "connection refused")

	t.Run("never reachable: error, before the deadline", func(t *testing.T) {
		t.Parallel()
		zb := &fakeZeebe{alwaysErr: unavailable}
		// Room for two backoffs before the stop point (4.2 s), so a loaded
		// machine still sees a second attempt.
		deadline := time.Now().Add(4500 * time.Millisecond)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		_, err := poller.Run(ctx, cfg(), zb, &fakePublisher{}, joblog.Discard())
		require.ErrorIs(t, err, poller.ErrActivate)
		assert.Equal(t, codes.Unavailable, status.Code(err), "the gRPC status survives")
		assert.True(t, time.Now().Before(deadline))
		// Backoff 1s, 2s, then 4s (cut short at the stop point): no busy loop.
		assert.LessOrEqual(t, len(zb.activations), 3)
		assert.GreaterOrEqual(t, len(zb.activations), 2)
	})

	t.Run("recovers: no error", func(t *testing.T) {
		t.Parallel()
		zb := &fakeZeebe{script: []activation{{err: unavailable}, {jobs: jobs(1)}}}
		// Room for the 1s backoff and one more poll.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		st, err := poller.Run(ctx, cfg(), zb, &fakePublisher{}, joblog.Discard())
		require.NoError(t, err)
		assert.Equal(t, poller.Stats{Activated: 1, Published: 1}, st)
	})

	t.Run("credentials refused: retried after a backoff, the log names the credentials", func(t *testing.T) {
		t.Parallel()
		zb := &fakeZeebe{script: []activation{{err: fmt.Errorf("activate: %w", status.Error(codes.Unauthenticated, "bad token"))}, {jobs: jobs(1)}}}
		var buf bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		st, err := poller.Run(ctx, cfg(), zb, &fakePublisher{}, joblog.New(&buf, true))
		require.NoError(t, err)
		assert.Equal(t, poller.Stats{Activated: 1, Published: 1}, st)
		assert.Contains(t, buf.String(), "refused the poller's credentials")
	})

	t.Run("jobs that come with an error are still published", func(t *testing.T) {
		t.Parallel()
		zb := &fakeZeebe{script: []activation{{jobs: jobs(2), err: unavailable}}}
		pub := &fakePublisher{}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		st, _ := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
		assert.Equal(t, 2, st.Published)
		assert.Len(t, pub.published, 2)
	})
}

// fakeSNS records PublishBatch calls and accepts every entry.
type fakeSNS struct {
	mu      sync.Mutex
	batches [][]string // message bodies per call
}

func (f *fakeSNS) PublishBatch(_ context.Context, in *sns.PublishBatchInput, _ ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var bodies []string
	out := &sns.PublishBatchOutput{}
	for _, e := range in.PublishBatchRequestEntries {
		bodies = append(bodies, aws.ToString(e.Message))
		out.Successful = append(out.Successful, types.PublishBatchResultEntry{Id: e.Id})
	}
	f.batches = append(f.batches, bodies)
	return out, nil
}

// Run hands all jobs of an activation to the publisher, which splits them
// into PublishBatch calls of at most ten.
func TestBatchingThroughSNSPublisher(t *testing.T) {
	t.Parallel()
	api := &fakeSNS{}
	zb := &fakeZeebe{script: []activation{{jobs: jobs(25)}}}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	st, err := poller.Run(ctx, cfg(), zb, snspub.New(api), joblog.Discard())
	require.NoError(t, err)
	assert.Equal(t, poller.Stats{Activated: 25, Published: 25}, st)
	var sizes []int
	keys := map[int64]bool{}
	for _, b := range api.batches {
		sizes = append(sizes, len(b))
		for _, body := range b {
			j, err := jobmsg.DecodeJob([]byte(body))
			require.NoError(t, err)
			keys[j.Key] = true
		}
	}
	assert.Equal(t, []int{10, 10, 5}, sizes)
	assert.Len(t, keys, 25)
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // every one must be named, on one line
		check   func(t *testing.T, c poller.Config)
	}{
		{name: "missing topic", env: map[string]string{}, wantErr: []string{"ZEEBE_JOBS_TOPIC_ARN"}},
		{name: "bad timeout", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "JOB_TIMEOUT": "5 minutes"}, wantErr: []string{"JOB_TIMEOUT"}},
		{name: "bad max", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "MAX_JOBS_ACTIVE": "-1"}, wantErr: []string{"MAX_JOBS_ACTIVE"}},
		{name: "max beyond int32", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "MAX_JOBS_ACTIVE": "9999999999"}, wantErr: []string{"MAX_JOBS_ACTIVE"}},
		{name: "bad long poll", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "LONG_POLL": "0s"}, wantErr: []string{"LONG_POLL"}},
		{name: "several bad", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "SAFETY_MARGIN": "x", "FAIL_BACKOFF": "-1s"},
			wantErr: []string{"SAFETY_MARGIN", "FAIL_BACKOFF"}},
		{name: "defaults", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "AWS_LAMBDA_FUNCTION_NAME": "poller"}, check: func(t *testing.T, c poller.Config) {
			assert.Equal(t, poller.Config{TopicARN: "arn", JobType: "lambda", JobTimeout: poller.DefaultJobTimeout,
				MaxJobsActive: poller.DefaultMaxJobsActive, Worker: "poller", LongPoll: poller.DefaultLongPoll,
				SafetyMargin: poller.DefaultSafetyMargin, PublishBackoff: poller.DefaultPublishBackoff}, c)
		}},
		{name: "worker name outside Lambda", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn"}, check: func(t *testing.T, c poller.Config) {
			assert.True(t, strings.HasPrefix(c.Worker, "zeebe-lambda-bridge-poller@"), c.Worker)
		}},
		{name: "overrides", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "JOB_TYPE": "aws", "JOB_TIMEOUT": "90s", "MAX_JOBS_ACTIVE": "5",
			"WORKER_NAME": "me", "LONG_POLL": "5s", "SAFETY_MARGIN": "1m", "FAIL_BACKOFF": "1s"}, check: func(t *testing.T, c poller.Config) {
			assert.Equal(t, poller.Config{TopicARN: "arn", JobType: "aws", JobTimeout: 90 * time.Second, MaxJobsActive: 5, Worker: "me",
				LongPoll: 5 * time.Second, SafetyMargin: time.Minute, PublishBackoff: time.Second}, c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := poller.ConfigFromEnv(envconfig.Map(tt.env))
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, v := range tt.wantErr {
					assert.Contains(t, err.Error(), v)
				}
				assert.NotContains(t, err.Error(), "\n", "one line")
				assert.True(t, errors.Is(err, envconfig.ErrMissing) || errors.Is(err, envconfig.ErrInvalid))
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// fakeRouter routes the identifiers it knows; err comes with every answer.
type fakeRouter struct {
	known map[string]bool
	err   error
}

func (f fakeRouter) Routable(_ context.Context, id string) (bool, error) {
	if f.err != nil {
		return true, f.err
	}
	return f.known[id], nil
}

func TestRunFailsUnroutableJobsIntoAnIncident(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		router        fakeRouter
		wantPublished int
		wantRejected  int
	}{
		{"routable and unroutable", fakeRouter{known: map[string]bool{"fn": true}}, 1, 1},
		{"listing failed: publish as before", fakeRouter{err: errors.New("AccessDenied")}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			batch := []jobmsg.Job{job(1, map[string]string{"identifier": "fn"}), job(2, map[string]string{"identifier": "not-deployed"})}
			zb := &fakeZeebe{script: []activation{{jobs: batch}}}
			pub := &fakePublisher{}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard(), poller.WithRouter(tt.router))
			require.NoError(t, err)
			assert.Equal(t, tt.wantPublished, st.Published)
			assert.Equal(t, tt.wantRejected, st.Rejected)
			if tt.wantRejected == 0 {
				return
			}
			f := zb.failsByKey()[2]
			assert.Equal(t, int32(0), f.Retries, "no retry can help: an incident at once")
			assert.Contains(t, f.Msg, `lambdaIdentifier="not-deployed"`)
			assert.Contains(t, f.Msg, cfg().TopicARN, "the message names the topic")
			assert.Contains(t, f.Msg, "resolve the incident")
		})
	}
}

// TestRunSignsEveryJob: with a signer, every published job carries a token
// over its key, deadline and identifier; a keyring that cannot be read hands
// the jobs back with retries unchanged instead of publishing them unsigned.
func TestRunSignsEveryJob(t *testing.T) {
	key := jobtoken.Key{ID: "k1", Secret: strings.Repeat("p", 32)}
	for _, tt := range []struct {
		name   string
		keys   *jobtoken.Keys
		signed bool
	}{
		{"keyring readable", jobtoken.Static(jobtoken.Keyring{Current: key}), true},
		{"keyring unreadable", jobtoken.NewKeys(func(context.Context) (string, error) { return "", errors.New("denied") }), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			zb := &fakeZeebe{script: []activation{{jobs: jobs(3)}}}
			pub := &fakePublisher{}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard(), poller.WithSigner(jobtoken.Signer{Keys: tt.keys}))
			require.NoError(t, err)
			if !tt.signed {
				assert.Zero(t, st.Published)
				require.Len(t, zb.failsByKey(), 3)
				for _, f := range zb.failsByKey() {
					assert.Equal(t, int32(3), f.Retries, "handed back with retries unchanged")
					assert.Contains(t, f.Msg, "sign the job message")
				}
				return
			}
			published := pub.jobs(t)
			require.Len(t, published, 3)
			for k, j := range published {
				require.NotNil(t, j.Token, "job %d", k)
				assert.Equal(t, jobtoken.Sign(key, k, j.Deadline, j.Identifier()), j.Token)
			}
		})
	}
}
