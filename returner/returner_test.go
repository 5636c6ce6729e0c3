package returner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/redelivery"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/returner"
)

type failCall struct {
	Key     int64
	Retries int32
	Msg     string
	Backoff time.Duration
}

type fakeZeebe struct {
	mu    sync.Mutex
	calls []failCall
	errs  map[int64]error // by job key
}

func (f *fakeZeebe) FailJob(_ context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, failCall{key, retries, msg, backoff})
	return f.errs[key]
}

type fakeRedelivery struct {
	mu      sync.Mutex
	retried []string
	held    map[string]time.Duration
}

func (f *fakeRedelivery) RetryLater(_ context.Context, r events.SQSMessage) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retried = append(f.retried, r.MessageId)
	return time.Second, nil
}

func (f *fakeRedelivery) Hold(_ context.Context, r events.SQSMessage, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[r.MessageId] = d
	return nil
}

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func jobRecord(t *testing.T, id string, key int64, retries int32, deadline time.Time, reason string) events.SQSMessage {
	t.Helper()
	m, err := jobmsg.EncodeJob(jobmsg.Job{Key: key, ProcessInstanceKey: key * 10, Type: "lambda", Retries: retries,
		Deadline: deadline.UnixMilli(), ElementID: "Task_A", CustomHeaders: map[string]string{"identifier": "book-hotel"}})
	require.NoError(t, err)
	r := events.SQSMessage{MessageId: id, Body: string(m.Body), EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel_dlq"}
	if reason != "" {
		r.MessageAttributes = map[string]events.SQSMessageAttribute{redelivery.AttrReason: {DataType: "String", StringValue: &reason}}
	}
	return r
}

func TestReturnerHandsBackWhatItCanAndKeepsTheRest(t *testing.T) {
	later := now.Add(time.Minute)
	tests := []struct {
		name    string
		rec     func(t *testing.T) events.SQSMessage
		zbErr   error
		want    returner.Verdict
		failed  bool   // reported in batchItemFailures
		msgHas  string // the FailJob message contains this
		logHas  string
		noCall  bool // Zeebe must not be called
		heldFor time.Duration
	}{
		{name: "dead-lettered by lambdakit: its reason goes into the job's error message",
			rec: func(t *testing.T) events.SQSMessage {
				return jobRecord(t, "bad", 7, 3, later, "the outcome could not be published: SNS said no")
			},
			want: returner.Returned, msgHas: "the outcome could not be published: SNS said no", logHas: "dead-lettered job handed back to Zeebe"},
		{name: "moved by SQS's redrive: the message says so",
			rec:  func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 2, later, "") },
			want: returner.Returned, msgHas: "SQS moved it there", logHas: "dead-lettered job handed back to Zeebe"},
		{name: "deadline passed: Zeebe already handed the job out again",
			rec:  func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 3, now.Add(-time.Second), "") },
			want: returner.Stale, noCall: true, logHas: "job deadline has passed"},
		{name: "job completed meanwhile (NOT_FOUND)",
			rec:   func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 3, later, "") },
			zbErr: status.Error(codes.NotFound, "no job 7"), want: returner.Stale, logHas: "Zeebe no longer waits for this job"},
		{name: "job no longer activated (FAILED_PRECONDITION)",
			rec:   func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 3, later, "") },
			zbErr: status.Error(codes.FailedPrecondition, "job 7 is FAILED"), want: returner.Stale, logHas: "Zeebe no longer waits for this job"},
		{name: "Zeebe unavailable: comes back after a short backoff",
			rec:   func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 3, later, "") },
			zbErr: status.Error(codes.Unavailable, "down"), want: returner.RetryLate, failed: true, logHas: "Zeebe unavailable"},
		{name: "not JSON: stays in the DLQ, held",
			rec: func(*testing.T) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", Body: "garbage", EventSource: "aws:sqs"}
			},
			want: returner.Kept, failed: true, noCall: true, logHas: "not a job message; it stays in the DLQ", heldFor: redelivery.MaxHold},
		{name: "unknown contract version: stays in the DLQ, held",
			rec: func(*testing.T) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", Body: `{"v":99,"key":7,"processInstanceKey":70}`, EventSource: "aws:sqs"}
			},
			want: returner.Kept, failed: true, noCall: true, logHas: "contract version this returner does not speak", heldFor: redelivery.MaxHold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zb := &fakeZeebe{errs: map[int64]error{7: tt.zbErr}}
			rd := &fakeRedelivery{held: map[string]time.Duration{}}
			var logs bytes.Buffer
			h := &returner.Handler{Zeebe: zb, Log: joblog.New(&logs, false), Redelivery: rd, Now: func() time.Time { return now }}
			// Every bad record shares its batch with a good one, which must be
			// returned whatever happens to its neighbour.
			good := jobRecord(t, "good", 8, 1, later, "")
			resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{tt.rec(t), good}})
			require.NoError(t, err)

			var failures []string
			for _, f := range resp.BatchItemFailures {
				failures = append(failures, f.ItemIdentifier)
			}
			if tt.failed {
				assert.Equal(t, []string{"bad"}, failures)
			} else {
				assert.Empty(t, failures)
			}
			var ours, neighbour []failCall
			for _, c := range zb.calls {
				if c.Key == 8 {
					neighbour = append(neighbour, c)
				} else {
					ours = append(ours, c)
				}
			}
			require.Len(t, neighbour, 1, "the good record of the batch was returned once")
			assert.Equal(t, int32(1), neighbour[0].Retries)
			if tt.noCall {
				assert.Empty(t, ours)
			} else {
				require.Len(t, ours, 1)
				assert.Equal(t, retriesOf(t, tt.rec(t)), ours[0].Retries, "retries unchanged")
				assert.Equal(t, returner.DefaultBackoff, ours[0].Backoff)
				assert.Contains(t, ours[0].Msg, `function "book-hotel"`)
				assert.Contains(t, ours[0].Msg, tt.msgHas)
			}
			assert.Equal(t, tt.heldFor, rd.held["bad"])
			assert.Equal(t, tt.want, h.Record(context.Background(), tt.rec(t)), "Record's verdict")
			line := lineWith(t, logs.String(), tt.logHas)
			if !strings.Contains(tt.name, "not JSON") {
				assert.EqualValues(t, 7, line["jobKey"], "the line carries the job key")
				assert.EqualValues(t, 70, line["processInstanceKey"], "and the process instance key")
			}
		})
	}
}

func retriesOf(t *testing.T, r events.SQSMessage) int32 {
	j, err := jobmsg.DecodeJob([]byte(r.Body))
	require.NoError(t, err)
	return j.Retries
}

func lineWith(t *testing.T, logs, msg string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		if strings.Contains(fmt.Sprint(m["msg"]), msg) {
			return m
		}
	}
	t.Fatalf("no log line says %q in:\n%s", msg, logs)
	return nil
}
