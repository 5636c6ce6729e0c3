package fulfiller_test

// The bad-input table of the fulfiller: every input that can reach it, what
// it answers, and proof that the good outcomes of the same batch reach Zeebe
// exactly once regardless.
//
// Reused from fulfiller_test.go: call, record and fakeRedelivery.

import (
	"context"
	"encoding/json"
	"strings"
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
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// biZeebe records every call and answers each job key from its script, the
// first answer first, then nil.
type biZeebe struct {
	mu     sync.Mutex
	script map[int64][]error
	calls  []call
}

func (z *biZeebe) answer(c call) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls = append(z.calls, c)
	s := z.script[c.Key]
	if len(s) == 0 {
		return nil
	}
	z.script[c.Key] = s[1:]
	return s[0]
}

func (z *biZeebe) CompleteJob(_ context.Context, key int64, vars json.RawMessage) error {
	return z.answer(call{Op: "complete", Key: key, Vars: string(vars)})
}

func (z *biZeebe) FailJob(_ context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	return z.answer(call{Op: "fail", Key: key, Retries: retries, Msg: msg, Backoff: backoff})
}

func (z *biZeebe) ThrowError(_ context.Context, key int64, code, msg string, vars json.RawMessage) error {
	return z.answer(call{Op: "error", Key: key, Code: code, Msg: msg, Vars: string(vars)})
}

func (z *biZeebe) UpdateJobTimeout(_ context.Context, key int64, timeout time.Duration) error {
	return z.answer(call{Op: "timeout", Key: key, Backoff: timeout})
}

func (z *biZeebe) callsFor(key int64) []call {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []call
	for _, c := range z.calls {
		if c.Key == key {
			out = append(out, c)
		}
	}
	return out
}

func biRaw(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// biEnvelope wraps message in the notification SNS writes to SQS when raw
// message delivery is off.
func biEnvelope(t *testing.T, id, message string) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "6a1e3b4c",
		"TopicArn": "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete", "Message": message})
	require.NoError(t, err)
	return biRaw(id, string(b))
}

type fAnswer int

const (
	// fReject: can never succeed. With Redelivery, moved to the DLQ with the
	// reason and acknowledged; without (or when the DLQ is unreachable), a
	// batch item failure, so it reaches the DLQ after maxReceiveCount.
	fReject fAnswer = iota
	// fRetry: Zeebe may take it later: a batch item failure, brought back
	// after a backoff when Redelivery is set.
	fRetry
	// fAcknowledged: applied, or a duplicate Zeebe no longer knows; deleted.
	fAcknowledged
)

// TestBadInputFulfiller runs every row in a batch between two good outcomes
// (a complete for job 801, a fail for job 802), with Redelivery, without it,
// and with a DLQ that cannot be reached.
func TestBadInputFulfiller(t *testing.T) {
	notFound := status.Error(codes.NotFound, "Expected to complete job with key '9004', but no such job was found")
	rows := []struct {
		name   string
		bad    func(t *testing.T) []events.SQSMessage
		script map[int64][]error // Zeebe's answers
		answer fAnswer
		// fReject: the line saying why, the DLQ reason's prefix and a
		// substring of the error in both.
		logMsg string
		reason string
		detail string
		badKey int64 // the job key the bad record names, if any
		calls  int   // Zeebe calls for badKey
		// Attributes of the bad record's first line (numbers as float64).
		attrs map[string]any
		// fAcknowledged: the msg of each bad record's line, in any order.
		ackMsgs []string
	}{
		{
			name:   "not JSON",
			bad:    func(*testing.T) []events.SQSMessage { return []events.SQSMessage{biRaw("bad", "not json")} },
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: "malformed message: invalid character 'o'",
			attrs: map[string]any{joblog.KeyJob: 0.0, joblog.KeyProcessInstance: 0.0},
		},
		{
			name:   "empty body",
			bad:    func(*testing.T) []events.SQSMessage { return []events.SQSMessage{biRaw("bad", "")} },
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: "malformed message: unexpected end of JSON input",
		},
		{
			name: "unknown contract version v=99",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":99,"jobKey":9002,"processInstanceKey":90020,"outcome":"complete"}`)}
			},
			answer: fReject, logMsg: "outcome of a contract version this fulfiller does not speak; it goes to the DLQ",
			reason: "outcome of a contract version this fulfiller does not speak: ", detail: "unsupported message version: v=99, this build speaks v=1",
			badKey: 9002, attrs: map[string]any{joblog.KeyJob: 9002.0, joblog.KeyProcessInstance: 90020.0},
		},
		{
			name: "unknown outcome kind",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":1,"jobKey":9003,"processInstanceKey":90030,"outcome":"explode"}`)}
			},
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: `malformed message: unknown outcome "explode" for job 9003`,
			badKey: 9003, attrs: map[string]any{joblog.KeyJob: 9003.0, joblog.KeyProcessInstance: 90030.0},
		},
		{
			name: "error outcome without errorCode",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":1,"jobKey":9008,"processInstanceKey":90080,"outcome":"error","errorMessage":"no seats"}`)}
			},
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: `malformed message: outcome "error" for job 9008 without errorCode`,
			badKey: 9008, attrs: map[string]any{joblog.KeyJob: 9008.0, joblog.KeyProcessInstance: 90080.0},
		},
		{
			name: "outcome without jobKey",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":1,"processInstanceKey":90110,"outcome":"complete"}`)}
			},
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: "malformed message: outcome message without jobKey",
			attrs: map[string]any{joblog.KeyJob: 0.0, joblog.KeyProcessInstance: 90110.0},
		},
		{
			name: "job message on the outcome queue (queue subscribed to the wrong topic)",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":1,"key":9012,"processInstanceKey":90120,"customHeaders":{"identifier":"fn"},"variables":{}}`)}
			},
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: "malformed message: outcome message without jobKey",
			badKey: 9012, attrs: map[string]any{joblog.KeyJob: 9012.0, joblog.KeyProcessInstance: 90120.0},
		},
		{
			name:   "SNS envelope wrapping garbage",
			bad:    func(t *testing.T) []events.SQSMessage { return []events.SQSMessage{biEnvelope(t, "bad", "garbage")} },
			answer: fReject, logMsg: "not an outcome message; it goes to the DLQ",
			reason: "not an outcome message: ", detail: "malformed message: invalid character 'g'",
			attrs: map[string]any{joblog.KeyJob: 0.0, joblog.KeyProcessInstance: 0.0},
		},
		{
			// Keys are peeked from the message inside the envelope.
			name: "SNS envelope wrapping an outcome of an unknown version",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biEnvelope(t, "bad", `{"v":99,"jobKey":9010,"processInstanceKey":90100,"outcome":"complete"}`)}
			},
			answer: fReject, logMsg: "outcome of a contract version this fulfiller does not speak; it goes to the DLQ",
			reason: "outcome of a contract version this fulfiller does not speak: ", detail: "v=99",
			badKey: 9010, attrs: map[string]any{joblog.KeyJob: 9010.0, joblog.KeyProcessInstance: 90100.0},
		},
		{
			name: "outcome for a job Zeebe does not know (NOT_FOUND)",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record(t, "bad", jobmsg.Outcome{JobKey: 9004, ProcessInstanceKey: 90040, Outcome: jobmsg.Complete}, false)}
			},
			script: map[int64][]error{9004: {notFound}},
			answer: fAcknowledged, badKey: 9004, calls: 1,
			ackMsgs: []string{"job not found in Zeebe: duplicate or stale outcome, acknowledged"},
			attrs:   map[string]any{joblog.KeyJob: 9004.0, joblog.KeyProcessInstance: 90040.0, "outcome": "complete", "level": "INFO"},
		},
		{
			// Applied concurrently: whichever Zeebe sees first is applied,
			// the other meets NOT_FOUND; both are acknowledged.
			name: "the same outcome twice in one batch",
			bad: func(t *testing.T) []events.SQSMessage {
				o := jobmsg.Outcome{JobKey: 9005, ProcessInstanceKey: 90050, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"n":1}`)}
				return []events.SQSMessage{record(t, "bad-1", o, false), record(t, "bad-2", o, true)}
			},
			script: map[int64][]error{9005: {nil, status.Error(codes.NotFound, "no such job")}},
			answer: fAcknowledged, badKey: 9005, calls: 2,
			ackMsgs: []string{"outcome applied", "job not found in Zeebe: duplicate or stale outcome, acknowledged"},
			attrs:   map[string]any{joblog.KeyJob: 9005.0, joblog.KeyProcessInstance: 90050.0},
		},
		{
			name: "engine rejects the outcome (INVALID_ARGUMENT)",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record(t, "bad", jobmsg.Outcome{JobKey: 9006, ProcessInstanceKey: 90060, Outcome: jobmsg.Complete, Variables: json.RawMessage(`[1]`)}, false)}
			},
			script: map[int64][]error{9006: {status.Error(codes.InvalidArgument, "Expected document to be a root level object, but was 'ARRAY'")}},
			answer: fReject, logMsg: "Zeebe rejected the outcome; it goes to the DLQ",
			reason: "Zeebe rejected the complete outcome for job 9006: ", detail: "code = InvalidArgument desc = Expected document to be a root level object",
			badKey: 9006, calls: 1, attrs: map[string]any{joblog.KeyJob: 9006.0, joblog.KeyProcessInstance: 90060.0, "outcome": "complete"},
		},
		{
			name: "engine unavailable (UNAVAILABLE)",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{record(t, "bad", jobmsg.Outcome{JobKey: 9007, ProcessInstanceKey: 90070, Outcome: jobmsg.Fail, Retries: 1, ErrorMessage: "x"}, false)}
			},
			script: map[int64][]error{9007: {status.Error(codes.Unavailable, "gateway down")}},
			answer: fRetry, logMsg: "Zeebe unavailable, overloaded or slow; SQS will deliver the outcome again",
			detail: "code = Unavailable desc = gateway down",
			badKey: 9007, calls: 1, attrs: map[string]any{joblog.KeyJob: 9007.0, joblog.KeyProcessInstance: 90070.0, "outcome": "fail"},
		},
	}

	for _, tt := range rows {
		for _, mode := range []string{"redelivery", "no-redelivery", "dlq-unreachable"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				var buf joblogtest.Buffer
				script := map[int64][]error{}
				for k, v := range tt.script {
					script[k] = append([]error(nil), v...)
				}
				zb := &biZeebe{script: script}
				h := fulfiller.New(zb, joblog.New(&buf, true))
				var rd *fakeRedelivery
				switch mode {
				case "redelivery":
					rd = &fakeRedelivery{}
				case "dlq-unreachable":
					rd = &fakeRedelivery{failDLQ: true}
				}
				if rd != nil {
					h.Redelivery = rd
				}
				good := []events.SQSMessage{
					record(t, "good-1", jobmsg.Outcome{JobKey: 801, ProcessInstanceKey: 8010, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"ok":true}`)}, false),
					record(t, "good-2", jobmsg.Outcome{JobKey: 802, ProcessInstanceKey: 8020, Outcome: jobmsg.Fail, Retries: 2, ErrorMessage: "boom", RetryBackoffMs: 1500}, true),
				}
				bad := tt.bad(t)
				var badIDs []string
				for _, r := range bad {
					badIDs = append(badIDs, r.MessageId)
				}
				recs := append(append([]events.SQSMessage{good[0]}, bad...), good[1])
				resp, err := h.Handle(context.Background(), events.SQSEvent{Records: recs})
				require.NoError(t, err)
				failed := map[string]bool{}
				for _, f := range resp.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}

				// The good outcomes: applied exactly once, acknowledged.
				assert.Equal(t, []call{{Op: "complete", Key: 801, Vars: `{"ok":true}`}}, zb.callsFor(801))
				assert.Equal(t, []call{{Op: "fail", Key: 802, Retries: 2, Msg: "boom", Backoff: 1500 * time.Millisecond}}, zb.callsFor(802))
				for _, g := range good {
					assert.False(t, failed[g.MessageId], "%s must not be in batchItemFailures", g.MessageId)
					l := joblogtest.Line(t, joblogtest.About(buf.Lines(t), "messageId", g.MessageId), "outcome applied")
					assert.Contains(t, l, joblog.KeyJob)
					if rd != nil {
						assert.NotContains(t, rd.deadLetters, g.MessageId)
						assert.NotContains(t, rd.retried, g.MessageId)
					}
				}

				// The bad record(s).
				if tt.badKey != 0 {
					assert.Len(t, zb.callsFor(tt.badKey), tt.calls, "Zeebe calls for job %d", tt.badKey)
				}
				assert.Len(t, zb.calls, 2+tt.calls, "nothing else reaches Zeebe")
				badLines := joblogtest.About(buf.Lines(t), "messageId", badIDs...)
				switch tt.answer {
				case fReject:
					id := badIDs[0]
					l := joblogtest.Line(t, badLines, tt.logMsg)
					assert.Equal(t, "ERROR", l["level"])
					assert.Contains(t, l["error"], tt.detail)
					switch mode {
					case "redelivery":
						assert.False(t, failed[id], "moved to the DLQ, the record is acknowledged")
						assert.True(t, strings.HasPrefix(rd.deadLetters[id], tt.reason), "DLQ reason %q", rd.deadLetters[id])
						assert.Contains(t, rd.deadLetters[id], tt.detail)
						dl := joblogtest.Line(t, badLines, "record moved to the DLQ at once")
						assert.Equal(t, rd.deadLetters[id], dl["reason"])
					case "no-redelivery":
						assert.True(t, failed[id], "left to maxReceiveCount: a batch item failure")
					case "dlq-unreachable":
						assert.True(t, failed[id], "the DLQ refused it: a batch item failure")
						l := joblogtest.Line(t, badLines, "could not move the record to the DLQ; it gets there after maxReceiveCount receives")
						assert.Contains(t, l["error"], "AccessDenied")
					}
					if rd != nil {
						assert.Empty(t, rd.retried)
					}
				case fRetry:
					id := badIDs[0]
					assert.True(t, failed[id], "reported, so that SQS delivers it again")
					l := joblogtest.Line(t, badLines, tt.logMsg)
					assert.Equal(t, "WARN", l["level"])
					assert.Contains(t, l["error"], tt.detail)
					if rd != nil {
						assert.Equal(t, []string{id}, rd.retried, "brought back after a backoff")
						joblogtest.Line(t, badLines, "the outcome comes back after a backoff")
						assert.Empty(t, rd.deadLetters)
					}
				case fAcknowledged:
					var msgs []string
					for _, id := range badIDs {
						assert.False(t, failed[id], "%s is acknowledged", id)
						for _, l := range joblogtest.About(buf.Lines(t), "messageId", id) {
							msgs = append(msgs, l["msg"].(string))
						}
					}
					assert.ElementsMatch(t, tt.ackMsgs, msgs)
					if rd != nil {
						assert.Empty(t, rd.deadLetters)
						assert.Empty(t, rd.retried)
					}
				}
				require.NotEmpty(t, badLines)
				for k, v := range tt.attrs {
					for _, l := range badLines {
						assert.Equal(t, v, l[k], "%s of %q", k, l["msg"])
					}
				}
			})
		}
	}
}
