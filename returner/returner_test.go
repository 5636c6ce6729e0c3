package returner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/returner"
)

// fakePublisher decodes what it is given; errs fails the outcomes of some jobs.
type fakePublisher struct {
	mu       sync.Mutex
	outcomes []jobmsg.Outcome
	errs     map[int64]error // by job key
}

func (f *fakePublisher) Publish(_ context.Context, topic string, msgs []jobmsg.Message) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		o, err := jobmsg.DecodeOutcome(m.Body)
		if err != nil || topic != outcomes {
			errs[i] = fmt.Errorf("bad outcome or topic: %v %s", err, topic)
			continue
		}
		if errs[i] = f.errs[o.JobKey]; errs[i] == nil {
			f.outcomes = append(f.outcomes, o)
		}
	}
	return errs
}

const outcomes = "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete"

var key = jobtoken.Key{ID: "k1", Secret: strings.Repeat("s", 32)}

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

func jobRecord(t *testing.T, id string, jobKey int64, retries int32, deadline time.Time, reason string) events.SQSMessage {
	return jobRecordCause(t, id, jobKey, retries, deadline, reason, sqsretry.CauseUnknown)
}

func jobRecordCause(t *testing.T, id string, jobKey int64, retries int32, deadline time.Time, reason string, cause sqsretry.Cause) events.SQSMessage {
	t.Helper()
	j := jobmsg.Job{Key: jobKey, ProcessInstanceKey: jobKey * 10, Type: "lambda", Retries: retries,
		Deadline: deadline.UnixMilli(), ElementID: "Task_A", CustomHeaders: map[string]string{"identifier": "book-hotel"}}
	j.Token = jobtoken.Sign(key, j.Key, j.Deadline, j.Identifier())
	m, err := jobmsg.EncodeJob(j)
	require.NoError(t, err)
	r := events.SQSMessage{MessageId: id, Body: string(m.Body), EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel_dlq"}
	r.MessageAttributes = map[string]events.SQSMessageAttribute{}
	if reason != "" {
		r.MessageAttributes[sqsretry.AttrReason] = events.SQSMessageAttribute{DataType: "String", StringValue: &reason}
	}
	if cause != sqsretry.CauseUnknown {
		c := string(cause)
		r.MessageAttributes[sqsretry.AttrCause] = events.SQSMessageAttribute{DataType: "String", StringValue: &c}
	}
	return r
}

func TestReturnerHandsBackWhatItCanAndKeepsTheRest(t *testing.T) {
	later := now.Add(time.Minute)
	tests := []struct {
		name    string
		rec     func(t *testing.T) events.SQSMessage
		pubErr  error
		want    returner.Verdict
		failed  bool   // reported in batchItemFailures
		msgHas  string // the FailJob message contains this
		retries int32  // the retries of the fail outcome: -1 for the job's, unchanged
		logHas  string
		noCall  bool // Zeebe must not be called
		heldFor time.Duration
	}{
		{name: "dead-lettered by lambdakit: its reason goes into the job's error message",
			rec: func(t *testing.T) events.SQSMessage {
				return jobRecord(t, "bad", 7, 3, later, "the outcome could not be published: SNS said no")
			},
			want: returner.Returned, msgHas: "the outcome could not be published: SNS said no", logHas: "dead-lettered job handed back to Zeebe", retries: -1},
		{name: "a configuration fault: failed without retries, so an incident names it",
			rec: func(t *testing.T) events.SQSMessage {
				return jobRecordCause(t, "bad", 7, 3, later, `claim-check pointer to bucket "b", but the function has no PAYLOAD_BUCKET: deploy it with the bucket`, sqsretry.CauseConfiguration)
			},
			want: returner.Returned, msgHas: `because the function's deployment is wrong: claim-check pointer to bucket "b", but the function has no PAYLOAD_BUCKET`, logHas: "dead-lettered job handed back to Zeebe", retries: 0},
		{name: "moved by SQS's redrive: the message says so",
			rec:  func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 2, later, "") },
			want: returner.Returned, msgHas: "SQS moved it there", logHas: "dead-lettered job handed back to Zeebe", retries: -1},
		{name: "deadline passed: Zeebe already handed the job out again",
			rec:  func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 3, now.Add(-time.Second), "") },
			want: returner.Stale, noCall: true, logHas: "job deadline has passed"},
		{name: "SNS unavailable: comes back after a short backoff",
			rec:    func(t *testing.T) events.SQSMessage { return jobRecord(t, "bad", 7, 3, later, "") },
			pubErr: errors.New("sns down"), want: returner.RetryLate, failed: true, noCall: true, logHas: "could not publish the fail outcome"},
		{name: "not JSON: stays in the DLQ, held",
			rec: func(*testing.T) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", Body: "garbage", EventSource: "aws:sqs"}
			},
			want: returner.Kept, failed: true, noCall: true, logHas: "not a job message; it stays in the DLQ", heldFor: sqsretry.MaxHold},
		{name: "unknown contract version: stays in the DLQ, held",
			rec: func(*testing.T) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", Body: `{"v":99,"key":7,"processInstanceKey":70}`, EventSource: "aws:sqs"}
			},
			want: returner.Kept, failed: true, noCall: true, logHas: "contract version this returner does not speak", heldFor: sqsretry.MaxHold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{errs: map[int64]error{7: tt.pubErr}}
			rd := &fakeRedelivery{held: map[string]time.Duration{}}
			var logs bytes.Buffer
			h := &returner.Handler{Publisher: pub, OutcomeTopicARN: outcomes, Log: joblog.New(&logs, false), Redelivery: rd, Now: func() time.Time { return now }}
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
			var ours, neighbour []jobmsg.Outcome
			for _, o := range pub.outcomes {
				if o.JobKey == 8 {
					neighbour = append(neighbour, o)
				} else {
					ours = append(ours, o)
				}
			}
			require.Len(t, neighbour, 1, "the good record of the batch was returned once")
			assert.Equal(t, int32(1), neighbour[0].Retries)
			if tt.noCall {
				assert.Empty(t, ours)
			} else {
				require.Len(t, ours, 1)
				o := ours[0]
				assert.Equal(t, jobmsg.Fail, o.Outcome)
				if tt.retries < 0 {
					assert.Equal(t, retriesOf(t, tt.rec(t)), o.Retries, "retries unchanged")
					assert.Equal(t, returner.DefaultBackoff.Milliseconds(), o.RetryBackoffMs)
				} else {
					assert.Equal(t, tt.retries, o.Retries)
					assert.Zero(t, o.RetryBackoffMs)
				}
				assert.Contains(t, o.ErrorMessage, `function "book-hotel"`)
				assert.Contains(t, o.ErrorMessage, tt.msgHas)
				assert.EqualValues(t, 70, o.ProcessInstanceKey)
				// Sealed with the job's token: the fulfiller will apply it.
				assert.NoError(t, jobtoken.Check(jobtoken.Keyring{Current: key}, o, now.UnixMilli()))
			}
			assert.Equal(t, tt.heldFor, rd.held["bad"])
			assert.Equal(t, tt.want, h.Record(context.Background(), tt.rec(t)), "Record's verdict")
			// The bad record's line: its job key, and its process instance key,
			// where the body gives them (not for a body that is not JSON).
			var key, pik float64 = 7, 70
			if strings.Contains(tt.name, "not JSON") {
				key, pik = 0, 0
			}
			line := lineWith(t, joblogtest.About(joblogtest.Parse(t, logs.String()), "jobKey", key), tt.logHas)
			assert.Equal(t, pik, line["processInstanceKey"], "the line carries the process instance key")
		})
	}
}

func retriesOf(t *testing.T, r events.SQSMessage) int32 {
	j, err := jobmsg.DecodeJob([]byte(r.Body))
	require.NoError(t, err)
	return j.Retries
}

// lineWith finds the line whose message contains msg.
func lineWith(t *testing.T, lines []map[string]any, msg string) map[string]any {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(fmt.Sprint(l["msg"]), msg) {
			return l
		}
	}
	return joblogtest.Line(t, lines, msg) // fails, listing the messages there are
}
