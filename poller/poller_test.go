package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envcfg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

type failCall struct {
	Key     int64
	Retries int32
	Msg     string
	Backoff time.Duration
}

// fakeZeebe hands out queued batches, then long-polls empty until the request timeout.
type fakeZeebe struct {
	mu              sync.Mutex
	batches         [][]jobmsg.Job
	requestTimeouts []time.Duration
	lastActivation  time.Time
	fails           []failCall
	timeouts        map[int64]time.Duration
}

func (f *fakeZeebe) ActivateJobs(ctx context.Context, _, _ string, _ int32, _, requestTimeout time.Duration) ([]jobmsg.Job, error) {
	f.mu.Lock()
	f.requestTimeouts = append(f.requestTimeouts, requestTimeout)
	f.lastActivation = time.Now()
	if len(f.batches) > 0 {
		b := f.batches[0]
		f.batches = f.batches[1:]
		f.mu.Unlock()
		return b, nil
	}
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(requestTimeout):
		return nil, nil
	}
}

func (f *fakeZeebe) FailJob(_ context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = append(f.fails, failCall{key, retries, msg, backoff})
	return nil
}

func (f *fakeZeebe) UpdateJobTimeout(_ context.Context, key int64, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timeouts == nil {
		f.timeouts = map[int64]time.Duration{}
	}
	f.timeouts[key] = timeout
	return nil
}

type fakePublisher struct {
	mu        sync.Mutex
	published []jobmsg.Message
	failKeys  map[int64]bool
	at        time.Time
}

func (p *fakePublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at = time.Now()
	errs := make([]error, len(msgs))
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

func job(key int64, headers map[string]string) jobmsg.Job {
	return jobmsg.Job{Key: key, ProcessInstanceKey: key * 10, Type: "lambda", ElementID: fmt.Sprintf("Task_%d", key),
		BPMNProcessID: "p", CustomHeaders: headers, Retries: 3, Variables: json.RawMessage(`{}`)}
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
	var batch []jobmsg.Job
	for i := int64(1); i <= 25; i++ {
		batch = append(batch, job(i, map[string]string{"identifier": "fn"}))
	}
	zb := &fakeZeebe{batches: [][]jobmsg.Job{batch}}
	pub := &fakePublisher{}
	deadline := time.Now().Add(1800 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
	require.NoError(t, err)
	returned := time.Now()

	assert.Equal(t, poller.Stats{Activated: 25, Published: 25}, st)
	assert.Len(t, pub.published, 25)
	assert.True(t, returned.Before(deadline), "Run returned %s after the deadline", returned.Sub(deadline))
	for _, rt := range zb.requestTimeouts {
		assert.LessOrEqual(t, rt, 1800*time.Millisecond-300*time.Millisecond, "long poll reaches into the safety margin")
	}
	// The long polls shrink as the deadline approaches.
	require.GreaterOrEqual(t, len(zb.requestTimeouts), 2)
	assert.Less(t, zb.requestTimeouts[len(zb.requestTimeouts)-1], zb.requestTimeouts[0])
	assert.True(t, zb.lastActivation.Before(deadline.Add(-300*time.Millisecond)))
}

func TestRunWithoutDeadlineRunsUntilCancelled(t *testing.T) {
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
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	zb.mu.Lock()
	defer zb.mu.Unlock()
	assert.Greater(t, len(zb.requestTimeouts), 2)
	assert.Equal(t, 50*time.Millisecond, zb.requestTimeouts[0])
}

func TestRunHandlesBadJobs(t *testing.T) {
	big := job(4, map[string]string{"identifier": "fn"})
	big.Variables = json.RawMessage(fmt.Sprintf(`{"x":%q}`, strings.Repeat("a", jobmsg.MaxMessageBytes)))
	jobs := []jobmsg.Job{
		job(1, map[string]string{"identifier": "fn"}),
		job(2, map[string]string{}),                   // no identifier
		job(3, map[string]string{"identifier": "fn"}), // publish fails
		big, // too large for SNS
		job(5, map[string]string{"identifier": "fn", "timeout": "PT2M"}), // timeout header
		job(6, map[string]string{"identifier": "fn", "timeout": "soon"}), // bad timeout header
	}
	zb := &fakeZeebe{batches: [][]jobmsg.Job{jobs}}
	pub := &fakePublisher{failKeys: map[int64]bool{3: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()

	st, err := poller.Run(ctx, cfg(), zb, pub, joblog.Discard())
	require.NoError(t, err)
	assert.Equal(t, poller.Stats{Activated: 6, Published: 2, PublishFailed: 1, Rejected: 3}, st)

	fails := map[int64]failCall{}
	for _, f := range zb.fails {
		fails[f.Key] = f
	}
	require.Len(t, fails, 4)

	assert.Equal(t, int32(0), fails[2].Retries, "a missing identifier must raise an incident")
	assert.Contains(t, fails[2].Msg, `"Task_2"`, "the message names the element")
	assert.Contains(t, fails[2].Msg, `identifier`)

	assert.Equal(t, int32(3), fails[3].Retries, "a publish failure keeps the retries")
	assert.Equal(t, 2*time.Second, fails[3].Backoff)
	assert.Contains(t, fails[3].Msg, "SNS")

	assert.Equal(t, int32(0), fails[4].Retries)
	assert.Contains(t, fails[4].Msg, "256 KiB")

	assert.Equal(t, int32(0), fails[6].Retries)
	assert.Contains(t, fails[6].Msg, `"timeout"`)
	assert.Contains(t, fails[6].Msg, `Task_6`)

	assert.Equal(t, 2*time.Minute, zb.timeouts[5])
	var j5 jobmsg.Job
	for _, m := range pub.published {
		j, err := jobmsg.DecodeJob(m.Body)
		require.NoError(t, err)
		if j.Key == 5 {
			j5 = j
		}
	}
	assert.WithinDuration(t, time.Now().Add(2*time.Minute), j5.DeadlineTime(), 5*time.Second)
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c poller.Config)
	}{
		{name: "missing topic", env: map[string]string{}, wantErr: "ZEEBE_JOBS_TOPIC_ARN"},
		{name: "bad timeout", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "JOB_TIMEOUT": "5 minutes"}, wantErr: "JOB_TIMEOUT"},
		{name: "bad max", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "MAX_JOBS_ACTIVE": "-1"}, wantErr: "MAX_JOBS_ACTIVE"},
		{name: "defaults", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "AWS_LAMBDA_FUNCTION_NAME": "poller"}, check: func(t *testing.T, c poller.Config) {
			assert.Equal(t, poller.Config{TopicARN: "arn", JobType: "lambda", JobTimeout: poller.DefaultJobTimeout,
				MaxJobsActive: poller.DefaultMaxJobsActive, Worker: "poller", LongPoll: poller.DefaultLongPoll,
				SafetyMargin: poller.DefaultSafetyMargin, PublishBackoff: poller.DefaultPublishBackoff}, c)
		}},
		{name: "overrides", env: map[string]string{"ZEEBE_JOBS_TOPIC_ARN": "arn", "JOB_TYPE": "aws", "JOB_TIMEOUT": "90s", "MAX_JOBS_ACTIVE": "5"}, check: func(t *testing.T, c poller.Config) {
			assert.Equal(t, "aws", c.JobType)
			assert.Equal(t, 90*time.Second, c.JobTimeout)
			assert.Equal(t, int32(5), c.MaxJobsActive)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := poller.ConfigFromEnv(envcfg.Map(tt.env))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "\n", "one line")
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "PT5M", want: 5 * time.Minute},
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "P1D", want: 24 * time.Hour},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "PT90S", want: 90 * time.Second},
		{in: "5m", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "P1DT", bad: true},
		{in: "PT0S", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := poller.ParseISODuration(tt.in)
			if tt.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
