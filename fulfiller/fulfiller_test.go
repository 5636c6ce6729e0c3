package fulfiller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

type call struct {
	Op      string
	Key     int64
	Retries int32
	Msg     string
	Code    string
	Backoff time.Duration
	Vars    string
}

type fakeZeebe struct {
	mu    sync.Mutex
	calls []call
	err   error
}

func (f *fakeZeebe) add(c call) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return f.err
}

func (f *fakeZeebe) CompleteJob(_ context.Context, key int64, vars json.RawMessage) error {
	return f.add(call{Op: "complete", Key: key, Vars: string(vars)})
}

func (f *fakeZeebe) FailJob(_ context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	return f.add(call{Op: "fail", Key: key, Retries: retries, Msg: msg, Backoff: backoff})
}

func (f *fakeZeebe) ThrowError(_ context.Context, key int64, code, msg string, vars json.RawMessage) error {
	return f.add(call{Op: "error", Key: key, Code: code, Msg: msg, Vars: string(vars)})
}

func record(t *testing.T, id string, o jobmsg.Outcome, envelope bool) events.SQSMessage {
	t.Helper()
	m, err := jobmsg.EncodeOutcome(o)
	require.NoError(t, err)
	body := string(m.Body)
	if envelope {
		b, err := json.Marshal(map[string]any{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete", "Message": body})
		require.NoError(t, err)
		body = string(b)
	}
	return events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs"}
}

func TestOutcomesReachZeebe(t *testing.T) {
	tests := []struct {
		name    string
		outcome jobmsg.Outcome
		want    call
	}{
		{"complete", jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"a":1}`)},
			call{Op: "complete", Key: 1, Vars: `{"a":1}`}},
		{"fail keeps the outcome's retries", jobmsg.Outcome{JobKey: 2, Outcome: jobmsg.Fail, Retries: 2, ErrorMessage: "boom", RetryBackoffMs: 1500},
			call{Op: "fail", Key: 2, Retries: 2, Msg: "boom", Backoff: 1500 * time.Millisecond}},
		{"fail to zero", jobmsg.Outcome{JobKey: 3, Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: "last"},
			call{Op: "fail", Key: 3, Retries: 0, Msg: "last"}},
		{"bpmn error", jobmsg.Outcome{JobKey: 4, Outcome: jobmsg.Error, ErrorCode: "FLIGHT_UNAVAILABLE", ErrorMessage: "no seats"},
			call{Op: "error", Key: 4, Code: "FLIGHT_UNAVAILABLE", Msg: "no seats"}},
	}
	for _, tt := range tests {
		for _, envelope := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/envelope=%v", tt.name, envelope), func(t *testing.T) {
				zb := &fakeZeebe{}
				h := fulfiller.New(zb, joblog.Discard())
				resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record(t, "m1", tt.outcome, envelope)}})
				require.NoError(t, err)
				assert.Empty(t, resp.BatchItemFailures)
				assert.Equal(t, []call{tt.want}, zb.calls)
			})
		}
	}
}

func TestZeebeErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		class    fulfiller.Class
		reported bool
	}{
		{"not found is a duplicate", status.Error(codes.NotFound, "job not found"), fulfiller.Duplicate, false},
		{"unavailable", status.Error(codes.Unavailable, "gateway down"), fulfiller.Retry, true},
		{"deadline exceeded", status.Error(codes.DeadlineExceeded, "slow"), fulfiller.Retry, true},
		{"resource exhausted", status.Error(codes.ResourceExhausted, "backpressure"), fulfiller.Retry, true},
		{"wrapped unavailable", fmt.Errorf("complete job 1: %w", status.Error(codes.Unavailable, "x")), fulfiller.Retry, true},
		{"context deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), fulfiller.Retry, true},
		{"failed precondition", status.Error(codes.FailedPrecondition, "job not activated"), fulfiller.Rejected, true},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad variables"), fulfiller.Rejected, true},
		{"plain error", errors.New("?"), fulfiller.Rejected, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.class, fulfiller.Classify(tt.err))
			zb := &fakeZeebe{err: tt.err}
			h := fulfiller.New(zb, joblog.Discard())
			ev := events.SQSEvent{Records: []events.SQSMessage{
				record(t, "m1", jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Complete}, false),
			}}
			resp, err := h.Handle(context.Background(), ev)
			require.NoError(t, err)
			if tt.reported {
				assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}}, resp.BatchItemFailures)
			} else {
				assert.Empty(t, resp.BatchItemFailures)
			}
		})
	}
}

func TestBadRecordsFailAloneAndNeverReachZeebe(t *testing.T) {
	zb := &fakeZeebe{}
	h := fulfiller.New(zb, joblog.Discard())
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "garbage", Body: "not json"},
		{MessageId: "future", Body: `{"v":2,"jobKey":5,"outcome":"complete"}`},
		record(t, "good", jobmsg.Outcome{JobKey: 6, Outcome: jobmsg.Complete}, false),
	}}
	resp, err := h.Handle(context.Background(), ev)
	require.NoError(t, err)
	assert.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "garbage"}, {ItemIdentifier: "future"}}, resp.BatchItemFailures)
	assert.Equal(t, []call{{Op: "complete", Key: 6}}, zb.calls)
}
