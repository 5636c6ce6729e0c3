package fulfiller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
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

func (f *fakeZeebe) UpdateJobTimeout(_ context.Context, key int64, timeout time.Duration) error {
	return f.add(call{Op: "timeout", Key: key, Backoff: timeout})
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
		// Refused credentials recover when a rotation completes: retried, never dead-lettered.
		{"unauthenticated", status.Error(codes.Unauthenticated, "token expired"), fulfiller.Retry, true},
		{"wrapped unauthenticated", fmt.Errorf("complete job 1: %w", status.Error(codes.Unauthenticated, "x")), fulfiller.Retry, true},
		{"permission denied", status.Error(codes.PermissionDenied, "no access to the cluster"), fulfiller.Retry, true},
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

// blockingZeebe answers only when the call's context ends, as a hung gateway would.
type blockingZeebe struct{ fakeZeebe }

func (b *blockingZeebe) CompleteJob(ctx context.Context, _ int64, _ json.RawMessage) error {
	<-ctx.Done()
	return fmt.Errorf("complete job: %w", ctx.Err())
}

// A Zeebe call that outlives CallTimeout is retried through SQS, not lost.
func TestSlowZeebeIsRetried(t *testing.T) {
	h := fulfiller.New(&blockingZeebe{}, joblog.Discard())
	h.CallTimeout = 50 * time.Millisecond
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record(t, "m1", jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Complete}, false),
	}})
	require.NoError(t, err)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}}, resp.BatchItemFailures)
}

// Retries travel from the outcome to FailJob exactly: the fulfiller neither
// decrements them again nor defaults them, whatever the record's shape.
func TestFailRetriesPassThroughExactly(t *testing.T) {
	for _, retries := range []int32{0, 1, 2, 3, 10} {
		for _, envelope := range []bool{false, true} {
			zb := &fakeZeebe{}
			h := fulfiller.New(zb, joblog.Discard())
			_, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
				record(t, "m", jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Fail, Retries: retries, ErrorMessage: "x"}, envelope),
			}})
			require.NoError(t, err)
			require.Len(t, zb.calls, 1)
			assert.Equal(t, retries, zb.calls[0].Retries, "envelope=%v", envelope)
		}
	}
}

// A BPMN error's variables reach ThrowError as the outcome carries them.
func TestBPMNErrorCarriesVariables(t *testing.T) {
	zb := &fakeZeebe{}
	h := fulfiller.New(zb, joblog.Discard())
	o := jobmsg.Outcome{JobKey: 8, Outcome: jobmsg.Error, ErrorCode: "E", ErrorMessage: "m", Variables: json.RawMessage(`{"why":"x"}`)}
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record(t, "m", o, true)}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)
	assert.Equal(t, []call{{Op: "error", Key: 8, Code: "E", Msg: "m", Vars: `{"why":"x"}`}}, zb.calls)
}

// A batch mixing every kind of result reports exactly the records SQS must
// deliver again or dead-letter, and applies the others.
func TestMixedBatch(t *testing.T) {
	zb := &keyedZeebe{errs: map[int64]error{
		2: status.Error(codes.NotFound, "gone"),
		3: status.Error(codes.Unavailable, "down"),
		4: status.Error(codes.FailedPrecondition, "not activated"),
	}}
	h := fulfiller.New(zb, joblog.Discard())
	var recs []events.SQSMessage
	for k := int64(1); k <= 4; k++ {
		recs = append(recs, record(t, fmt.Sprintf("m%d", k), jobmsg.Outcome{JobKey: k, Outcome: jobmsg.Complete}, k%2 == 0))
	}
	recs = append(recs, events.SQSMessage{MessageId: "bad", Body: `{"v":1,"jobKey":5,"outcome":"explode"}`})
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	assert.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m3"}, {ItemIdentifier: "m4"}, {ItemIdentifier: "bad"}}, resp.BatchItemFailures)
}

// TestMetricsCountTheBatch: the EMF fields on the log lines add up to what
// happened to the batch, and each line is valid EMF.
func TestMetricsCountTheBatch(t *testing.T) {
	var buf bytes.Buffer
	zb := &keyedZeebe{errs: map[int64]error{
		4: status.Error(codes.NotFound, "gone"),
		5: status.Error(codes.Unavailable, "down"),
		6: status.Error(codes.FailedPrecondition, "not activated"),
	}}
	h := fulfiller.New(zb, joblog.New(&buf, false))
	sent := strconv.FormatInt(time.Now().Add(-2*time.Second).UnixMilli(), 10)
	var recs []events.SQSMessage
	for k, kind := range map[int64]jobmsg.Kind{1: jobmsg.Complete, 2: jobmsg.Fail, 3: jobmsg.Error, 4: jobmsg.Complete, 5: jobmsg.Complete, 6: jobmsg.Complete, 7: jobmsg.Complete} {
		r := record(t, fmt.Sprintf("m%d", k), jobmsg.Outcome{JobKey: k, Outcome: kind, ErrorCode: "E", Retries: 1}, false)
		r.Attributes = map[string]string{"SentTimestamp": sent}
		recs = append(recs, r)
	}
	_, err := h.Handle(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	got, err := emf.Totals(buf.Bytes())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, got["OutcomeToAppliedMs"], 4*2000.0, "four applied, each sent 2 s ago")
	delete(got, "OutcomeToAppliedMs")
	assert.Equal(t, map[string]float64{
		"OutcomesApplied": 4, "JobsCompleted": 2, "JobsFailed": 1, "ErrorsThrown": 1,
		"OutcomesDuplicate": 1, "OutcomesRetried": 1, "OutcomesRejected": 1,
	}, got)
}

type keyedZeebe struct {
	fakeZeebe
	errs map[int64]error
}

func (k *keyedZeebe) CompleteJob(_ context.Context, key int64, _ json.RawMessage) error {
	return k.errs[key]
}

// Every log line about a record carries jobKey and processInstanceKey, also
// for a record that cannot be decoded as far as its body tells them.
func TestLogLinesCarryJobKeys(t *testing.T) {
	var buf bytes.Buffer
	zb := &keyedZeebe{errs: map[int64]error{2: status.Error(codes.NotFound, "gone"), 3: status.Error(codes.Unavailable, "down"),
		5: status.Error(codes.Unauthenticated, "bad token")}}
	h := fulfiller.New(zb, joblog.New(&buf, true))
	recs := []events.SQSMessage{
		record(t, "m1", jobmsg.Outcome{JobKey: 1, ProcessInstanceKey: 100, Outcome: jobmsg.Complete}, false),
		record(t, "m2", jobmsg.Outcome{JobKey: 2, ProcessInstanceKey: 200, Outcome: jobmsg.Complete}, true),
		record(t, "m3", jobmsg.Outcome{JobKey: 3, ProcessInstanceKey: 300, Outcome: jobmsg.Complete}, false),
		{MessageId: "m4", Body: `{"v":9,"jobKey":4,"processInstanceKey":400,"outcome":"complete"}`},
		record(t, "m5", jobmsg.Outcome{JobKey: 5, ProcessInstanceKey: 500, Outcome: jobmsg.Complete}, false),
	}
	_, err := h.Handle(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 5)
	seen := map[int64]string{}
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		require.Contains(t, m, joblog.KeyJob, l)
		require.Contains(t, m, joblog.KeyProcessInstance, l)
		jk := int64(m[joblog.KeyJob].(float64))
		assert.Equal(t, float64(jk*100), m[joblog.KeyProcessInstance], l)
		seen[jk] = m["msg"].(string)
	}
	assert.Contains(t, seen[2], "duplicate or stale")
	assert.Contains(t, seen[4], "contract version")
	assert.Contains(t, seen[5], "refused the fulfiller's credentials", "a refusal names the credentials")
	assert.NotContains(t, seen[3], "credentials")
}

// fakeRedelivery records what the handler asked of the queue.
type fakeRedelivery struct {
	mu          sync.Mutex
	retried     []string
	deadLetters map[string]string // message id -> reason
	failDLQ     bool
}

func (f *fakeRedelivery) RetryLater(_ context.Context, r events.SQSMessage) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retried = append(f.retried, r.MessageId)
	return time.Second, nil
}

func (f *fakeRedelivery) DeadLetter(_ context.Context, r events.SQSMessage, reason string, _ sqsretry.Cause) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failDLQ {
		return errors.New("AccessDenied")
	}
	if f.deadLetters == nil {
		f.deadLetters = map[string]string{}
	}
	f.deadLetters[r.MessageId] = reason
	return nil
}

// TestRedelivery: with Redelivery set, what can never succeed goes to the DLQ
// at once (and is acknowledged), what met an unavailable engine comes back
// after a backoff (and is reported), and the rest of the batch is untouched.
func TestRedelivery(t *testing.T) {
	tests := []struct {
		name         string
		record       events.SQSMessage
		zeebeErr     error
		failDLQ      bool
		wantReported bool
		wantRetried  bool
		wantReason   string // substring; "" = not dead-lettered
	}{
		{"not JSON", events.SQSMessage{MessageId: "x", Body: "not json"}, nil, false, false, false, "not an outcome message"},
		{"unknown contract version", events.SQSMessage{MessageId: "x", Body: `{"v":2,"jobKey":5,"outcome":"complete"}`}, nil, false, false, false, "contract version"},
		{"rejected by the engine", record(t, "x", jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Complete}, false),
			status.Error(codes.InvalidArgument, "bad variables"), false, false, false, "Zeebe rejected the complete outcome for job 7"},
		{"engine unavailable", record(t, "x", jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Complete}, false),
			status.Error(codes.Unavailable, "down"), false, true, true, ""},
		{"credentials refused: retried, not dead-lettered", record(t, "x", jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Complete}, false),
			status.Error(codes.Unauthenticated, "bad token"), false, true, true, ""},
		{"permission denied: retried, not dead-lettered", record(t, "x", jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Complete}, false),
			status.Error(codes.PermissionDenied, "no access"), false, true, true, ""},
		{"DLQ unreachable: left to maxReceiveCount", events.SQSMessage{MessageId: "x", Body: "not json"}, nil, true, true, false, ""},
		{"duplicate", record(t, "x", jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Complete}, false),
			status.Error(codes.NotFound, "gone"), false, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zb := &keyedZeebe{errs: map[int64]error{7: tt.zeebeErr}}
			rd := &fakeRedelivery{failDLQ: tt.failDLQ}
			h := fulfiller.New(zb, joblog.Discard())
			h.Redelivery = rd
			good := record(t, "good", jobmsg.Outcome{JobKey: 8, Outcome: jobmsg.Complete}, true)
			resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{tt.record, good}})
			require.NoError(t, err)
			var reported []string
			for _, f := range resp.BatchItemFailures {
				reported = append(reported, f.ItemIdentifier)
			}
			if tt.wantReported {
				assert.Equal(t, []string{"x"}, reported)
			} else {
				assert.Empty(t, reported)
			}
			assert.Equal(t, tt.wantRetried, len(rd.retried) == 1)
			if tt.wantReason == "" {
				assert.Empty(t, rd.deadLetters)
			} else {
				assert.Contains(t, rd.deadLetters["x"], tt.wantReason)
			}
			assert.NotContains(t, rd.deadLetters, "good")
		})
	}
}
