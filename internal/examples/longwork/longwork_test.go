package longwork_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/longwork"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

type queue struct {
	bodies []string
	delays []int32
}

func (q *queue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.bodies = append(q.bodies, aws.ToString(in.MessageBody))
	q.delays = append(q.delays, in.DelaySeconds)
	return &sqs.SendMessageOutput{}, nil
}

type completer struct {
	heartbeats int
	completed  any
}

func (c *completer) Complete(_ context.Context, _ string, vars any) error {
	c.completed = vars
	return nil
}
func (c *completer) Heartbeat(context.Context, string, time.Duration) error {
	c.heartbeats++
	return nil
}

type nopPublisher struct{ n int }

func (p *nopPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	p.n += len(msgs)
	return make([]error, len(msgs))
}

// The work item visits the finisher at each heartbeat until the work is
// due, then completes the job; heartbeats stop at heartbeatForSeconds.
func TestLongWork(t *testing.T) {
	tests := []struct {
		name           string
		in             longwork.Input
		wantHeartbeats int
		wantDelays     []int32
	}{
		{"heartbeats every 5 s for 30 s of work", longwork.Input{WorkSeconds: 30, HeartbeatSeconds: 5}, 5, []int32{5, 5, 5, 5, 5, 5}},
		{"no heartbeats", longwork.Input{WorkSeconds: 30}, 0, []int32{30}},
		{"heartbeats stop after 10 s", longwork.Input{WorkSeconds: 30, HeartbeatSeconds: 5, HeartbeatForSeconds: 10}, 1, []int32{5, 5, 20}},
		{"an hour of work waits 15 min at a time", longwork.Input{WorkSeconds: 3600}, 0, []int32{900, 900, 900, 900}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
			q, c := &queue{}, &completer{}
			w := &longwork.Worker{Queue: q, QueueURL: "url", Completer: c, Log: joblog.Discard(), Now: func() time.Time { return now }}
			pub := &nopPublisher{}
			h, err := lambdakit.New(w.Start, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn", Logger: joblog.Discard(), Now: func() time.Time { return now }})
			require.NoError(t, err)
			vars, _ := json.Marshal(tt.in)
			job, err := jobmsg.EncodeJob(jobmsg.Job{Key: 5, ProcessInstanceKey: 6, Retries: 3, Deadline: now.Add(15 * time.Second).UnixMilli(),
				CustomHeaders: map[string]string{"identifier": "long-work", "timeout": "PT15S"}, Variables: vars})
			require.NoError(t, err)
			payload, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "j", Body: string(job.Body), EventSource: "aws:sqs"}}})
			_, err = h.Invoke(context.Background(), payload)
			require.NoError(t, err)
			assert.Zero(t, pub.n, "pending: no outcome from the invocation")
			for i := 0; c.completed == nil; i++ {
				require.Less(t, i, 20, "the work never finished")
				require.Len(t, q.bodies, i+1)
				now = now.Add(time.Duration(q.delays[i]) * time.Second)
				resp, err := w.Finish(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "w", Body: q.bodies[i]}}})
				require.NoError(t, err)
				assert.Empty(t, resp.BatchItemFailures)
			}
			assert.Equal(t, tt.wantDelays, q.delays)
			assert.Equal(t, tt.wantHeartbeats, c.heartbeats)
			res, ok := c.completed.(longwork.Result)
			require.True(t, ok)
			assert.Equal(t, tt.wantHeartbeats, res.LongWork.Heartbeats)
			var it longwork.Item
			require.NoError(t, json.Unmarshal([]byte(q.bodies[0]), &it))
			tok, err := completion.Parse(it.Token)
			require.NoError(t, err)
			assert.Equal(t, int64(5), tok.JobKey)
			assert.Equal(t, int64(15000), tok.TimeoutMs)
		})
	}
}

type failingCompleter struct{ completer }

func (failingCompleter) Heartbeat(context.Context, string, time.Duration) error {
	return errors.New("sns down")
}

// A visit that cannot send its heartbeat is retried by SQS; garbage is dropped.
func TestFinishReportsFailures(t *testing.T) {
	tok, err := completion.NewToken(jobmsg.Job{Key: 1, Deadline: 1, CustomHeaders: map[string]string{"identifier": "long-work"}})
	require.NoError(t, err)
	now := time.Now()
	item, _ := json.Marshal(longwork.Item{Token: tok.String(), StartedAt: now, DueAt: now.Add(time.Hour), Heartbeat: 5})
	w := &longwork.Worker{Queue: &queue{}, QueueURL: "url", Completer: &failingCompleter{}, Log: joblog.Discard()}
	resp, err := w.Finish(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "beat", Body: string(item)}, {MessageId: "garbage", Body: "{"}}})
	require.NoError(t, err)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "beat"}}, resp.BatchItemFailures)
}
