package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

type recordingPublisher struct{ outcomes []jobmsg.Outcome }

func (p *recordingPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		o, err := jobmsg.DecodeOutcome(m.Body)
		if err != nil {
			panic(err)
		}
		p.outcomes = append(p.outcomes, o)
	}
	return make([]error, len(msgs))
}

// TestLoopInjectsEachFaultOnceAndEveryChainEnds runs turns through the
// catalog's loop function (LosingPublisher included) as LocalStack would.
func TestLoopInjectsEachFaultOnceAndEveryChainEnds(t *testing.T) {
	faults := chaos.LoopFaults{ErrorEvery: 7, PanicEvery: 11, LoseEvery: 9, FirstRetries: 3}
	tests := []struct {
		turn    int
		retries int32
		want    []string // the outcome of each successive run of the same job
	}{
		{turn: 0, retries: 3, want: []string{"complete"}},
		{turn: 1, retries: 3, want: []string{"fail"}},
		{turn: 1, retries: 2, want: []string{"complete"}}, // the retry
		{turn: 2, retries: 3, want: []string{"fail"}},     // panic
		{turn: 3, retries: 3, want: []string{"lost", "complete"}},
		{turn: 57, retries: 3, want: []string{"fail"}}, // 57 % 7 == 1 and 57 % 9 == 3: the error first
		{turn: 57, retries: 2, want: []string{"lost", "complete"}},
	}
	f, ok := catalog.ByName("loop")
	require.True(t, ok)
	pub := &recordingPublisher{}
	var logs bytes.Buffer
	h, err := f.New(lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn", Logger: joblog.New(&logs, false)})
	require.NoError(t, err)
	for i, tt := range tests {
		t.Run(fmt.Sprintf("turn %d retries %d", tt.turn, tt.retries), func(t *testing.T) {
			in, err := json.Marshal(chaos.LoopInput{I: tt.turn, Faults: faults})
			require.NoError(t, err)
			job, err := jobmsg.EncodeJob(jobmsg.Job{Key: int64(100 + i), ProcessInstanceKey: 9, CustomHeaders: map[string]string{"identifier": "loop"},
				Retries: tt.retries, Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: in})
			require.NoError(t, err)
			payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
			require.NoError(t, err)
			for _, want := range tt.want {
				before := len(pub.outcomes)
				out, err := h.Invoke(context.Background(), payload)
				require.NoError(t, err)
				var resp events.SQSEventResponse
				require.NoError(t, json.Unmarshal(out, &resp))
				if want == "lost" {
					assert.Len(t, resp.BatchItemFailures, 1, "a lost outcome is reported (no DLQ configured here)")
					assert.Len(t, pub.outcomes, before)
					continue
				}
				require.Len(t, pub.outcomes, before+1)
				o := pub.outcomes[before]
				assert.Equal(t, want, string(o.Outcome))
				if want == "complete" {
					assert.JSONEq(t, fmt.Sprintf(`{"i":%d}`, tt.turn+1), string(o.Variables), "the mark never reaches Zeebe")
				} else {
					assert.Equal(t, tt.retries-1, o.Retries)
				}
			}
		})
	}
	var runs int
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e struct {
			Msg    string `json:"msg"`
			JobKey int64  `json:"jobKey"`
			Pik    int64  `json:"processInstanceKey"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &e))
		if e.Msg == "loop run" {
			runs++
			assert.Positive(t, e.JobKey)
			assert.Equal(t, int64(9), e.Pik)
		}
	}
	assert.Equal(t, 9, runs, "one line per run")
}

func TestPlannedFaults(t *testing.T) {
	faults := chaos.LoopFaults{ErrorEvery: 7, PanicEvery: 11, LoseEvery: 9, FirstRetries: 3}
	for _, tt := range []struct {
		turns int
		want  map[string]int
	}{
		{20, map[string]int{chaos.FaultError: 3, chaos.FaultPanic: 2, chaos.FaultLose: 2}}, // 1 8 15, 2 13, 3 12
		{60, map[string]int{chaos.FaultError: 9, chaos.FaultPanic: 5, chaos.FaultLose: 7}}, // 57 errs first, then loses
		{0, map[string]int{}},
	} {
		assert.Equal(t, tt.want, faults.Planned(tt.turns), "%d turns", tt.turns)
	}
}

type failingPublisher struct{}

func (failingPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	errs := make([]error, len(msgs))
	for i := range errs {
		errs[i] = errors.New("sns down")
	}
	return errs[:len(errs)-1] // and one result short
}

func TestLosingPublisherKeepsResultsInOrder(t *testing.T) {
	msgs := []jobmsg.Message{{Body: []byte(`{"a":1}`)}, {Body: []byte(`{"zlbLoseOutcome":true}`)}, {Body: []byte(`{"b":2}`)}}
	errs := chaos.LosingPublisher{Publisher: failingPublisher{}}.Publish(context.Background(), "arn", msgs)
	require.Len(t, errs, 3)
	assert.EqualError(t, errs[0], "sns down")
	assert.EqualError(t, errs[1], "injected fault: SNS publish failed")
	assert.ErrorContains(t, errs[2], "returned 1 results for 2 messages")
}

// TestLoopLoseAlways: every run of the same job loses its outcome, the
// lasting fault the returner's bound on hand-backs is for.
func TestLoopLoseAlways(t *testing.T) {
	tests := []struct {
		name    string
		turn    int
		retries int32
	}{
		{"first run", 0, 3},
		{"a hand-back, retries unchanged", 0, 3},
		{"a later turn, a retry used", 5, 2},
	}
	f, ok := catalog.ByName("loop")
	require.True(t, ok)
	pub := &recordingPublisher{}
	h, err := f.New(lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn", Logger: joblog.Discard()})
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := json.Marshal(chaos.LoopInput{I: tt.turn, Faults: chaos.LoopFaults{LoseAlways: true}})
			require.NoError(t, err)
			job, err := jobmsg.EncodeJob(jobmsg.Job{Key: 100, ProcessInstanceKey: 9, CustomHeaders: map[string]string{"identifier": "loop"},
				Retries: tt.retries, Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: in})
			require.NoError(t, err)
			payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
			require.NoError(t, err)
			out, err := h.Invoke(context.Background(), payload)
			require.NoError(t, err)
			var resp events.SQSEventResponse
			require.NoError(t, json.Unmarshal(out, &resp))
			assert.Len(t, resp.BatchItemFailures, 1, "the outcome is lost (no DLQ configured here)")
			assert.Empty(t, pub.outcomes)
		})
	}
}
