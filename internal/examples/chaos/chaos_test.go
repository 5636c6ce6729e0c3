package chaos_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func TestAlwaysFail(t *testing.T) {
	_, err := chaos.AlwaysFail(context.Background(), chaos.Input{})
	require.ErrorIs(t, err, chaos.ErrSimulated)
	// The end-to-end tests look for this text in the incident.
	assert.EqualError(t, err, "always-fail: simulated failure")
}

func TestPanic(t *testing.T) {
	assert.PanicsWithValue(t, "panic: simulated crash", func() { _, _ = chaos.Panic(context.Background(), chaos.Input{}) })
}

func TestSleepIgnoresItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := chaos.Sleep(ctx, chaos.Input{SleepSeconds: 0.1})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "a cancelled context must not cut the sleep short")
}

type capture struct{ outcomes []jobmsg.Outcome }

func (c *capture) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		o, _ := jobmsg.DecodeOutcome(m.Body)
		c.outcomes = append(c.outcomes, o)
	}
	return make([]error, len(msgs))
}

// TestThroughLambdakit runs each chaos function as its Lambda does and checks
// the failure Zeebe will see: always retries-1, never an SQS retry.
func TestThroughLambdakit(t *testing.T) {
	tests := []struct {
		name        string
		handler     func(context.Context, chaos.Input) (chaos.Result, error)
		vars        string
		wantMessage string
	}{
		{"always-fail", chaos.AlwaysFail, `{}`, "always-fail: simulated failure"},
		{"panic", chaos.Panic, `{}`, "handler panicked: panic: simulated crash"},
		{"sleep", chaos.Sleep, `{"sleepSeconds":0.4}`, "handler timed out: still running 100ms before the Lambda deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &capture{}
			h, err := lambdakit.New(tt.handler, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn",
				DeadlineMargin: 100 * time.Millisecond, Logger: joblog.Discard()})
			require.NoError(t, err)
			job, err := jobmsg.EncodeJob(jobmsg.Job{Key: 1, ProcessInstanceKey: 2, CustomHeaders: map[string]string{"identifier": tt.name},
				Retries: 2, Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: json.RawMessage(tt.vars)})
			require.NoError(t, err)
			payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
			defer cancel()

			out, err := h.Invoke(ctx, payload)
			require.NoError(t, err)
			assert.JSONEq(t, `{"batchItemFailures":[]}`, string(out), "the record is acknowledged: SQS never retries a job")
			require.Len(t, pub.outcomes, 1)
			assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
			assert.Equal(t, int32(1), pub.outcomes[0].Retries)
			assert.Contains(t, pub.outcomes[0].ErrorMessage, tt.wantMessage)
		})
	}
}
