package lambdakit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

const outcomeTopic = "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete"

// fakePublisher records the outcomes it is given, or fails them all with err.
type fakePublisher struct {
	mu       sync.Mutex
	outcomes []jobmsg.Outcome
	attrs    []map[string]string
	err      error
	short    bool // answer with no result at all, like a broken publisher
}

func (p *fakePublisher) Publish(_ context.Context, topic string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.short {
		return nil
	}
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if p.err != nil {
			errs[i] = p.err
			continue
		}
		if topic != outcomeTopic {
			errs[i] = fmt.Errorf("wrong topic %s", topic)
			continue
		}
		o, err := jobmsg.DecodeOutcome(m.Body)
		if err != nil {
			errs[i] = err
			continue
		}
		p.outcomes = append(p.outcomes, o)
		p.attrs = append(p.attrs, m.Attributes)
	}
	return errs
}

func (p *fakePublisher) published() []jobmsg.Outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]jobmsg.Outcome(nil), p.outcomes...)
}

// now is the fixed clock of the tests; job deadlines are relative to it.
func now() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }

type Trip struct {
	TripID string `json:"tripId"`
	Fail   string `json:"fail"`
}

type Booking struct {
	BookingID string `json:"bookingId"`
}

// book is the handler of most tests; the input decides how it behaves.
func book(ctx context.Context, in Trip) (Booking, error) {
	switch in.Fail {
	case "bpmn":
		return Booking{}, lambdakit.BPMNError("NO_ROOM", "hotel full", map[string]any{"reason": "full"})
	case "wrapped-bpmn":
		return Booking{}, fmt.Errorf("booking: %w", lambdakit.BPMNError("NO_ROOM", "hotel full", nil))
	case "bpmn-no-code":
		return Booking{}, lambdakit.BPMNError("", "hotel full", nil)
	case "bpmn-bad-vars":
		return Booking{}, lambdakit.BPMNError("NO_ROOM", "hotel full", []int{1})
	case "bpmn-huge-vars":
		return Booking{}, lambdakit.BPMNError("NO_ROOM", "hotel full", map[string]string{"blob": strings.Repeat("x", jobmsg.MaxMessageBytes)})
	case "error":
		return Booking{}, errors.New("database unreachable")
	case "huge-error":
		return Booking{}, errors.New(strings.Repeat("é", jobmsg.MaxMessageBytes))
	case "panic":
		panic("nil map write")
	case "block":
		<-ctx.Done()
		return Booking{}, ctx.Err()
	}
	return Booking{BookingID: "H-" + in.TripID}, nil
}

func testConfig(pub jobmsg.Publisher) lambdakit.Config {
	return lambdakit.Config{
		Publisher: pub, OutcomeTopicARN: outcomeTopic,
		RetryBackoff: 3 * time.Second, DeadlineMargin: 100 * time.Millisecond,
		Logger: joblog.Discard(), Now: now,
	}
}

func newHandler(t *testing.T, pub jobmsg.Publisher) *lambdakit.Handler {
	t.Helper()
	h, err := lambdakit.New(book, testConfig(pub))
	require.NoError(t, err)
	return h
}

// jobRecord is an SQS record carrying a job message as SNS raw delivery puts it.
func jobRecord(t *testing.T, id string, vars string, mutate func(*jobmsg.Job)) events.SQSMessage {
	t.Helper()
	j := jobmsg.Job{Key: 100, ProcessInstanceKey: 200, Type: "lambda", ElementID: "Task_BookHotel", BPMNProcessID: "trip",
		CustomHeaders: map[string]string{"identifier": "book-hotel"}, Retries: 3,
		Deadline: now().Add(time.Minute).UnixMilli(), Variables: json.RawMessage(vars)}
	if mutate != nil {
		mutate(&j)
	}
	m, err := jobmsg.EncodeJob(j)
	require.NoError(t, err)
	attrs := map[string]events.SQSMessageAttribute{}
	for k, v := range m.Attributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return events.SQSMessage{MessageId: id, Body: string(m.Body), MessageAttributes: attrs, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// invoke drives h as the Lambda runtime does for an SQS event source mapping.
func invoke(ctx context.Context, t *testing.T, h *lambdakit.Handler, recs ...events.SQSMessage) events.SQSEventResponse {
	t.Helper()
	payload, err := json.Marshal(events.SQSEvent{Records: recs})
	require.NoError(t, err)
	out, err := h.Invoke(ctx, payload)
	require.NoError(t, err)
	var resp events.SQSEventResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	return resp
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		vars        string
		mutate      func(*jobmsg.Job)
		want        jobmsg.Outcome
		wantMessage string // substring of ErrorMessage, when set
	}{
		{name: "complete", vars: `{"tripId":"t1"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"bookingId":"H-t1"}`)}},
		{name: "complete under resultVariable", vars: `{"tripId":"t1"}`,
			mutate: func(j *jobmsg.Job) { j.CustomHeaders[jobmsg.HeaderResultVariable] = "hotel" },
			want:   jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"hotel":{"bookingId":"H-t1"}}`)}},
		{name: "no variables at all", vars: ``,
			want: jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"bookingId":"H-"}`)}},
		{name: "job without deadline runs", vars: `{"tripId":"t1"}`, mutate: func(j *jobmsg.Job) { j.Deadline = 0 },
			want: jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"bookingId":"H-t1"}`)}},
		{name: "bpmn error", vars: `{"fail":"bpmn"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOM", ErrorMessage: "hotel full", Variables: json.RawMessage(`{"reason":"full"}`)}},
		{name: "wrapped bpmn error", vars: `{"fail":"wrapped-bpmn"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOM", ErrorMessage: "hotel full", Variables: json.RawMessage(`{}`)}},
		{name: "bpmn error without code is an incident", vars: `{"fail":"bpmn-no-code"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0}, wantMessage: "needs a non-empty error code"},
		{name: "bpmn error with non-object variables is an incident", vars: `{"fail":"bpmn-bad-vars"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0}, wantMessage: "BPMN error NO_ROOM: its variables"},
		{name: "error fails with retries-1 and the backoff", vars: `{"fail":"error"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 3000, ErrorMessage: "database unreachable"}},
		{name: "last retry fails to zero", vars: `{"fail":"error"}`, mutate: func(j *jobmsg.Job) { j.Retries = 1 },
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, RetryBackoffMs: 3000, ErrorMessage: "database unreachable"}},
		{name: "zero retries stay zero", vars: `{"fail":"error"}`, mutate: func(j *jobmsg.Job) { j.Retries = 0 },
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, RetryBackoffMs: 3000, ErrorMessage: "database unreachable"}},
		{name: "panic fails with retries-1", vars: `{"fail":"panic"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 3000, ErrorMessage: "handler panicked: nil map write"}},
		{name: "variables of the wrong type are an incident: a retry would repeat them", vars: `{"tripId":42}`,
			want:        jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0},
			wantMessage: "the job's variables do not fit the handler's input type lambdakit_test.Trip"},
		{name: "huge error message is capped, retries kept", vars: `{"fail":"huge-error"}`,
			want:        jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 3000},
			wantMessage: "more bytes cut by lambdakit]"},
		{name: "too large bpmn variables are an incident", vars: `{"fail":"bpmn-huge-vars"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0}, wantMessage: "the variables of BPMN error NO_ROOM are too large for SNS (256 KiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			resp := invoke(context.Background(), t, newHandler(t, pub), jobRecord(t, "m1", tt.vars, tt.mutate))
			assert.Empty(t, resp.BatchItemFailures)
			require.Len(t, pub.outcomes, 1)
			got := pub.outcomes[0]
			assert.Equal(t, int64(100), got.JobKey)
			assert.Equal(t, int64(200), got.ProcessInstanceKey)
			assert.Equal(t, tt.want.Outcome, got.Outcome)
			assert.Equal(t, tt.want.Retries, got.Retries)
			assert.Equal(t, tt.want.RetryBackoffMs, got.RetryBackoffMs)
			assert.Equal(t, tt.want.ErrorCode, got.ErrorCode)
			if tt.want.ErrorMessage != "" {
				assert.Equal(t, tt.want.ErrorMessage, got.ErrorMessage)
			}
			if tt.wantMessage != "" {
				assert.Contains(t, got.ErrorMessage, tt.wantMessage)
			}
			assert.LessOrEqual(t, len(got.ErrorMessage), lambdakit.MaxErrorMessageBytes)
			if tt.want.Variables != nil {
				assert.JSONEq(t, string(tt.want.Variables), string(got.Variables))
			}
			assert.Equal(t, string(tt.want.Outcome), pub.attrs[0][jobmsg.AttrOutcome])
		})
	}
}

// handlerReturning wraps a handler that ignores its input and returns out.
func handlerReturning[Out any](out Out) func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
	return func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
		return lambdakit.New(func(context.Context, struct{}) (Out, error) { return out, nil }, cfg)
	}
}

// markup is 200 KiB that json.Marshal would escape to 1.2 MiB.
var markup = strings.Repeat("<&>", 200*1024/3)

func TestResultShapes(t *testing.T) {
	tests := []struct {
		name           string
		handler        func(cfg lambdakit.Config) (*lambdakit.Handler, error)
		resultVariable string
		wantKind       jobmsg.Kind
		wantVars       string // JSON, for complete
		wantMessage    string // substring, for fail
	}{
		{"string without resultVariable is an incident", handlerReturning("ok"), "", jobmsg.Fail, "", `set the task header "resultVariable"`},
		{"string under resultVariable", handlerReturning("ok"), "status", jobmsg.Complete, `{"status":"ok"}`, ""},
		{"array without resultVariable is an incident", handlerReturning([]int{1, 2}), "", jobmsg.Fail, "", "[1,2], which is not a JSON object"},
		{"array under resultVariable", handlerReturning([]int{1, 2}), "items", jobmsg.Complete, `{"items":[1,2]}`, ""},
		{"nil pointer sets nothing", handlerReturning[*Booking](nil), "", jobmsg.Complete, `{}`, ""},
		{"empty struct sets nothing", handlerReturning(struct{}{}), "", jobmsg.Complete, `{}`, ""},
		{"map", handlerReturning(map[string]int{"n": 1}), "", jobmsg.Complete, `{"n":1}`, ""},
		{"unencodable result is an incident", handlerReturning(map[string]any{"f": func() {}}), "", jobmsg.Fail, "", "cannot be encoded as JSON"},
		{"200 KiB of markup and '&' is not inflated past the limit", handlerReturning(map[string]string{"doc": markup}), "",
			jobmsg.Complete, `{"doc":"` + markup + `"}`, ""},
		{"too large result is an incident", handlerReturning(map[string]string{"blob": strings.Repeat("x", jobmsg.MaxMessageBytes)}), "",
			jobmsg.Fail, "", "the handler's result is too large for SNS (256 KiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			h, err := tt.handler(testConfig(pub))
			require.NoError(t, err)
			resp := invoke(context.Background(), t, h, jobRecord(t, "m1", `{}`, func(j *jobmsg.Job) {
				if tt.resultVariable != "" {
					j.CustomHeaders[jobmsg.HeaderResultVariable] = tt.resultVariable
				}
			}))
			assert.Empty(t, resp.BatchItemFailures)
			require.Len(t, pub.outcomes, 1)
			got := pub.outcomes[0]
			assert.Equal(t, tt.wantKind, got.Outcome)
			if tt.wantKind == jobmsg.Complete {
				assert.JSONEq(t, tt.wantVars, string(got.Variables))
				return
			}
			assert.Equal(t, int32(0), got.Retries, "a retry would return the same result: incident at once")
			assert.Zero(t, got.RetryBackoffMs)
			assert.Contains(t, got.ErrorMessage, tt.wantMessage)
		})
	}
}

func TestHandlerOutlivingTheLambdaDeadlineFailsTheJob(t *testing.T) {
	pub := &fakePublisher{}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp := invoke(ctx, t, newHandler(t, pub), jobRecord(t, "m1", `{"fail":"block"}`, nil))
	elapsed := time.Since(start)

	assert.Empty(t, resp.BatchItemFailures, "the failure was published: the record is done")
	assert.Less(t, elapsed, 300*time.Millisecond, "must answer before the Lambda deadline")
	assert.GreaterOrEqual(t, elapsed, 150*time.Millisecond, "must give the handler the time up to the margin")
	require.Len(t, pub.outcomes, 1)
	got := pub.outcomes[0]
	assert.Equal(t, jobmsg.Fail, got.Outcome)
	assert.Equal(t, int32(2), got.Retries)
	assert.Equal(t, int64(3000), got.RetryBackoffMs)
	assert.Contains(t, got.ErrorMessage, "handler timed out: still running 100ms before the Lambda deadline")
}

func TestAbandonedHandlerDoesNotPublishTwice(t *testing.T) {
	pub := &fakePublisher{}
	release := make(chan struct{})
	var finished atomic.Bool
	h, err := lambdakit.New(func(context.Context, struct{}) (map[string]int, error) {
		<-release // ignores its context, like a handler stuck in a blocking call
		finished.Store(true)
		return map[string]int{"late": 1}, nil
	}, testConfig(pub))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	invoke(ctx, t, h, jobRecord(t, "m1", `{}`, nil))
	close(release)
	require.Eventually(t, finished.Load, time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let a (wrong) second publish happen
	got := pub.published()
	require.Len(t, got, 1)
	assert.Equal(t, jobmsg.Fail, got[0].Outcome)
	assert.Contains(t, got[0].ErrorMessage, "handler timed out")
}

func TestNoTimeLeftFailsWithoutRunning(t *testing.T) {
	pub := &fakePublisher{}
	var ran atomic.Bool
	cfg := testConfig(pub)
	cfg.DeadlineMargin = time.Second
	h, err := lambdakit.New(func(context.Context, struct{}) (struct{}, error) { ran.Store(true); return struct{}{}, nil }, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	invoke(ctx, t, h, jobRecord(t, "m1", `{}`, nil))
	assert.False(t, ran.Load())
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
	assert.Equal(t, int32(2), pub.outcomes[0].Retries)
	assert.Contains(t, pub.outcomes[0].ErrorMessage, "handler timed out before it started")
	assert.Contains(t, pub.outcomes[0].ErrorMessage, "DEADLINE_MARGIN")
}

func TestCancelledInvocationInterruptsTheHandler(t *testing.T) {
	pub := &fakePublisher{}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	invoke(ctx, t, newHandler(t, pub), jobRecord(t, "m1", `{"fail":"block"}`, nil))
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
	assert.Equal(t, int32(2), pub.outcomes[0].Retries)
	assert.Equal(t, "handler interrupted: context canceled", pub.outcomes[0].ErrorMessage)
}

func TestStaleJobIsDroppedWithoutRunning(t *testing.T) {
	var ran atomic.Bool
	pub := &fakePublisher{}
	h, err := lambdakit.New(func(context.Context, struct{}) (struct{}, error) { ran.Store(true); return struct{}{}, nil }, testConfig(pub))
	require.NoError(t, err)
	resp := invoke(context.Background(), t, h, jobRecord(t, "m1", `{}`, func(j *jobmsg.Job) { j.Deadline = now().Add(-time.Millisecond).UnixMilli() }))
	assert.Empty(t, resp.BatchItemFailures, "a stale job is acknowledged")
	assert.False(t, ran.Load(), "the handler must not run")
	assert.Empty(t, pub.outcomes, "nothing is published")
}

func TestBadRecordsAndPublishFailuresAreReportedAlone(t *testing.T) {
	pub := &fakePublisher{}
	good := jobRecord(t, "good", `{"tripId":"t1"}`, nil)
	resp := invoke(context.Background(), t, newHandler(t, pub),
		events.SQSMessage{MessageId: "garbage", Body: "{", EventSource: "aws:sqs"},
		events.SQSMessage{MessageId: "future", Body: `{"v":9,"key":1,"customHeaders":{"identifier":"x"}}`, EventSource: "aws:sqs"},
		events.SQSMessage{MessageId: "outcome", Body: `{"v":1,"jobKey":1,"outcome":"complete"}`, EventSource: "aws:sqs"},
		good,
	)
	assert.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "garbage"}, {ItemIdentifier: "future"}, {ItemIdentifier: "outcome"}},
		resp.BatchItemFailures)
	require.Len(t, pub.outcomes, 1, "the good neighbour is processed")

	for name, mutate := range map[string]func(*lambdakit.Config){
		"publish error":    func(c *lambdakit.Config) { c.Publisher = &fakePublisher{err: errors.New("sns down")} },
		"no result at all": func(c *lambdakit.Config) { c.Publisher = &fakePublisher{short: true} },
		"wrong topic":      func(c *lambdakit.Config) { c.OutcomeTopicARN = "arn:elsewhere" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(&fakePublisher{})
			mutate(&cfg)
			h, err := lambdakit.New(book, cfg)
			require.NoError(t, err)
			resp := invoke(context.Background(), t, h, good)
			assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "good"}}, resp.BatchItemFailures)
		})
	}
}

func TestEmptyEventGetsAnEmptyResponse(t *testing.T) {
	pub := &fakePublisher{}
	out, err := newHandler(t, pub).Invoke(context.Background(), []byte(`{"Records":[]}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[]}`, string(out))
	assert.Empty(t, pub.outcomes)
}

func TestRecordsOfABatchRunConcurrently(t *testing.T) {
	pub := &fakePublisher{}
	h, err := lambdakit.New(func(_ context.Context, in Trip) (Booking, error) {
		time.Sleep(100 * time.Millisecond)
		return Booking{BookingID: in.TripID}, nil
	}, testConfig(pub))
	require.NoError(t, err)
	var recs []events.SQSMessage
	for i := range 8 {
		recs = append(recs, jobRecord(t, fmt.Sprint("m", i), fmt.Sprintf(`{"tripId":"t%d"}`, i), func(j *jobmsg.Job) { j.Key = int64(1000 + i) }))
	}
	start := time.Now()
	resp := invoke(context.Background(), t, h, recs...)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "8 records of 100ms each must not run one after the other")
	assert.Empty(t, resp.BatchItemFailures)
	got := map[int64]string{}
	for _, o := range pub.outcomes {
		got[o.JobKey] = string(o.Variables)
	}
	require.Len(t, got, 8)
	assert.JSONEq(t, `{"bookingId":"t3"}`, got[1003], "each outcome belongs to its own job")
}

func TestSNSEnvelopeAndRawDelivery(t *testing.T) {
	pub := &fakePublisher{}
	raw := jobRecord(t, "raw", `{"tripId":"raw"}`, nil)
	wrapped := jobRecord(t, "wrapped", `{"tripId":"wrapped"}`, func(j *jobmsg.Job) { j.Key = 101 })
	envelope, err := json.Marshal(map[string]any{
		"Type": "Notification", "MessageId": "6a1e3b4c", "TopicArn": "arn:aws:sns:us-east-1:000000000000:zeebe_jobs",
		"Message":           wrapped.Body,
		"MessageAttributes": map[string]any{"lambdaIdentifier": map[string]string{"Type": "String", "Value": "book-hotel"}},
	})
	require.NoError(t, err)
	wrapped.Body, wrapped.MessageAttributes = string(envelope), nil
	resp := invoke(context.Background(), t, newHandler(t, pub), raw, wrapped)
	assert.Empty(t, resp.BatchItemFailures)
	got := map[int64]string{}
	for _, o := range pub.outcomes {
		got[o.JobKey] = string(o.Variables)
	}
	assert.Equal(t, map[int64]string{100: `{"bookingId":"H-raw"}`, 101: `{"bookingId":"H-wrapped"}`}, got)
}

func TestDirectInvocation(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string // JSON response
		wantErr string
	}{
		{name: "output is the response", payload: `{"tripId":"direct"}`, want: `{"bookingId":"H-direct"}`},
		{name: "records of another source are input", payload: `{"Records":[{"eventSource":"aws:sns"}]}`, want: `{"bookingId":"H-"}`},
		{name: "error is the function error", payload: `{"fail":"error"}`, wantErr: "database unreachable"},
		{name: "bpmn error is a function error too", payload: `{"fail":"bpmn"}`, wantErr: "BPMN error NO_ROOM: hotel full"},
		{name: "panic is recovered", payload: `{"fail":"panic"}`, wantErr: "handler panicked: nil map write"},
		{name: "input of the wrong type", payload: `{"tripId":1}`, wantErr: "the invocation's payload does not fit the handler's input type"},
		{name: "unreadable SQS event", payload: `{"Records":[{"eventSource":"aws:sqs","body":7}]}`, wantErr: "unreadable SQS event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			out, err := newHandler(t, pub).Invoke(context.Background(), []byte(tt.payload))
			assert.Empty(t, pub.outcomes, "a direct invocation publishes nothing")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(out))
		})
	}
}

func TestJobFromContext(t *testing.T) {
	pub := &fakePublisher{}
	var seen jobmsg.Job
	var ok bool
	h, err := lambdakit.New(func(ctx context.Context, _ struct{}) (struct{}, error) {
		seen, ok = lambdakit.JobFromContext(ctx)
		if ok {
			seen.CustomHeaders[jobmsg.HeaderResultVariable] = "clobbered" // must not change what lambdakit does
		}
		return struct{}{}, nil
	}, testConfig(pub))
	require.NoError(t, err)
	invoke(context.Background(), t, h, jobRecord(t, "m1", `{"a":1}`, nil))
	require.True(t, ok)
	assert.Equal(t, int64(100), seen.Key)
	assert.Equal(t, int64(200), seen.ProcessInstanceKey)
	assert.Equal(t, "book-hotel", seen.Identifier())
	assert.Equal(t, int32(3), seen.Retries)
	assert.Nil(t, seen.Variables)
	require.Len(t, pub.outcomes, 1)
	assert.JSONEq(t, `{}`, string(pub.outcomes[0].Variables))

	_, err = h.Invoke(context.Background(), []byte(`{}`))
	require.NoError(t, err)
	assert.False(t, ok, "a direct invocation has no job")
}

// syncBuffer is a bytes.Buffer safe for the concurrent records of a batch.
func TestLogLinesCarryTheJobKeys(t *testing.T) {
	var buf joblogtest.Buffer
	cfg := testConfig(&fakePublisher{})
	cfg.Logger = joblog.New(&buf, true)
	h, err := lambdakit.New(book, cfg)
	require.NoError(t, err)
	invoke(context.Background(), t, h,
		jobRecord(t, "ok", `{"tripId":"t1"}`, nil),
		jobRecord(t, "failing", `{"fail":"error"}`, func(j *jobmsg.Job) { j.Key = 101 }),
		jobRecord(t, "stale", `{}`, func(j *jobmsg.Job) { j.Key = 102; j.Deadline = now().Add(-time.Second).UnixMilli() }),
		events.SQSMessage{MessageId: "garbage", Body: "{", EventSource: "aws:sqs"},
	)
	lines := buf.Lines(t)
	require.NotEmpty(t, lines)
	var messages []string
	for _, l := range lines {
		msg := l["msg"].(string)
		messages = append(messages, msg)
		if l["messageId"] == "garbage" {
			assert.Contains(t, msg, "not a job message")
			assert.Contains(t, l["reason"], "malformed message")
			continue
		}
		assert.Contains(t, l, joblog.KeyJob, msg)
		assert.EqualValues(t, 200, l[joblog.KeyProcessInstance], msg)
	}
	assert.Contains(t, messages, "outcome published")
	assert.Contains(t, messages, "handler failed")
	assert.Contains(t, strings.Join(messages, "\n"), "job deadline has passed")
	assert.Contains(t, strings.Join(messages, "\n"), "rejecting SQS record")
}

// TestMetricsCountTheOutcomes: the "outcome published" lines are valid EMF
// and count the invocation's outcomes by kind.
func TestMetricsCountTheOutcomes(t *testing.T) {
	var buf joblogtest.Buffer
	cfg := testConfig(&fakePublisher{})
	cfg.Logger = joblog.New(&buf, false)
	h, err := lambdakit.New(book, cfg)
	require.NoError(t, err)
	invoke(context.Background(), t, h,
		jobRecord(t, "ok1", `{"tripId":"t1"}`, nil),
		jobRecord(t, "ok2", `{"tripId":"t2"}`, func(j *jobmsg.Job) { j.Key = 101 }),
		jobRecord(t, "failing", `{"fail":"error"}`, func(j *jobmsg.Job) { j.Key = 102 }),
		jobRecord(t, "bpmn", `{"fail":"bpmn"}`, func(j *jobmsg.Job) { j.Key = 103 }),
	)
	got, err := emf.Totals(buf.Bytes())
	require.NoError(t, err)
	assert.Contains(t, got, "HandlerMs")
	delete(got, "HandlerMs")
	assert.Equal(t, map[string]float64{"OutcomesPublished": 4, "OutcomesComplete": 2, "OutcomesFail": 1, "OutcomesError": 1}, got)
}

func TestNewValidatesTheConfig(t *testing.T) {
	for name, cfg := range map[string]lambdakit.Config{
		"no publisher":    {OutcomeTopicARN: outcomeTopic},
		"no topic":        {Publisher: &fakePublisher{}},
		"negative margin": {Publisher: &fakePublisher{}, OutcomeTopicARN: outcomeTopic, DeadlineMargin: -time.Second},
	} {
		_, err := lambdakit.New(book, cfg)
		assert.Error(t, err, name)
	}
	_, err := lambdakit.New[Trip, Booking](nil, testConfig(&fakePublisher{}))
	assert.Error(t, err)
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		wantIs  error
	}{
		{"missing topic", map[string]string{}, "ZEEBE_FULFILLER_SNS_ARN", envconfig.ErrMissing},
		{"bad backoff", map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "RETRY_BACKOFF": "soon"}, "RETRY_BACKOFF", envconfig.ErrInvalid},
		{"bad margin", map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "DEADLINE_MARGIN": "-1s"}, "DEADLINE_MARGIN", envconfig.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lambdakit.ConfigFromEnv(context.Background(), envconfig.Map(tt.env))
			require.ErrorIs(t, err, tt.wantIs)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}

	t.Run("defaults", func(t *testing.T) {
		c, err := lambdakit.ConfigFromEnv(context.Background(), envconfig.Map(map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "AWS_REGION": "us-east-1"}))
		require.NoError(t, err)
		assert.Equal(t, "arn", c.OutcomeTopicARN)
		assert.NotNil(t, c.Publisher)
		assert.NotNil(t, c.Logger)
		assert.Equal(t, lambdakit.DefaultRetryBackoff, c.RetryBackoff)
		assert.Equal(t, lambdakit.DefaultDeadlineMargin, c.DeadlineMargin)
	})

	t.Run("options are defaults the environment overrides", func(t *testing.T) {
		logger := slog.New(slog.DiscardHandler)
		c, err := lambdakit.ConfigFromEnv(context.Background(),
			envconfig.Map(map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "RETRY_BACKOFF": "10s"}),
			lambdakit.WithRetryBackoff(time.Minute), lambdakit.WithDeadlineMargin(7*time.Second), lambdakit.WithLogger(logger))
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, c.RetryBackoff, "the environment wins")
		assert.Equal(t, 7*time.Second, c.DeadlineMargin, "the option is the default")
		assert.Same(t, logger, c.Logger)
	})
}

// TestStartExitsWithOneLineNamingTheVariable runs Start in a child process
// (this test binary again) with bad configuration.
func TestStartExitsWithOneLineNamingTheVariable(t *testing.T) {
	if os.Getenv("LAMBDAKIT_TEST_START_CHILD") == "1" {
		lambdakit.Start(book)
		t.Fatal("Start returned")
	}
	tests := []struct {
		name    string
		env     []string
		wantVar string
	}{
		{"missing topic", nil, "ZEEBE_FULFILLER_SNS_ARN"},
		{"invalid backoff", []string{"ZEEBE_FULFILLER_SNS_ARN=arn", "RETRY_BACKOFF=later"}, "RETRY_BACKOFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestStartExitsWithOneLineNamingTheVariable$")
			cmd.Env = append([]string{"LAMBDAKIT_TEST_START_CHILD=1", "PATH=" + os.Getenv("PATH")}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "stderr: %s", stderr.String())
			assert.Equal(t, 1, exit.ExitCode())
			out := strings.TrimRight(stderr.String(), "\n")
			assert.NotContains(t, out, "\n", "one line")
			assert.True(t, strings.HasPrefix(out, "lambdakit: "), out)
			assert.Contains(t, out, tt.wantVar)
		})
	}
}

// fakeDeadLetters records what was dead-lettered; err fails every call.
type fakeDeadLetters struct {
	mu      sync.Mutex
	reasons map[string]string
	causes  map[string]sqsretry.Cause
	err     error
}

func (f *fakeDeadLetters) DeadLetter(_ context.Context, r events.SQSMessage, reason string, cause sqsretry.Cause) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.reasons == nil {
		f.reasons, f.causes = map[string]string{}, map[string]sqsretry.Cause{}
	}
	f.reasons[r.MessageId], f.causes[r.MessageId] = reason, cause
	return nil
}

// TestPoisonRecordsGoToTheDLQAtOnce: with DeadLetters set, a record that is
// not a job message is moved to the DLQ with its reason and acknowledged; if
// that fails, it is reported as before. Its good neighbour runs either way.
func TestPoisonRecordsGoToTheDLQAtOnce(t *testing.T) {
	tests := []struct {
		name         string
		dlqErr       error
		wantReported []events.SQSBatchItemFailure
	}{
		{"moved at once", nil, []events.SQSBatchItemFailure{}},
		{"DLQ unreachable: left to the redrive policy", errors.New("AccessDenied"),
			[]events.SQSBatchItemFailure{{ItemIdentifier: "garbage"}, {ItemIdentifier: "future"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			dl := &fakeDeadLetters{err: tt.dlqErr}
			cfg := testConfig(pub)
			cfg.DeadLetters = dl
			h, err := lambdakit.New(book, cfg)
			require.NoError(t, err)
			resp := invoke(context.Background(), t, h,
				events.SQSMessage{MessageId: "garbage", Body: "{", EventSource: "aws:sqs"},
				events.SQSMessage{MessageId: "future", Body: `{"v":9,"key":1,"customHeaders":{"identifier":"x"}}`, EventSource: "aws:sqs"},
				jobRecord(t, "good", `{"tripId":"t1"}`, nil),
			)
			assert.ElementsMatch(t, tt.wantReported, resp.BatchItemFailures)
			require.Len(t, pub.outcomes, 1, "the good neighbour is processed")
			if tt.dlqErr == nil {
				assert.Contains(t, dl.reasons["garbage"], "not a job message")
				assert.Contains(t, dl.reasons["future"], "unsupported contract version")
				assert.NotContains(t, dl.reasons, "good")
			}
		})
	}
}

// TestUnpublishedOutcomesGoToTheDLQAtOnce: a job whose outcome cannot be
// published is moved to the DLQ at once, with the reason (the returner hands
// it back to Zeebe from there), instead of waiting out the visibility
// timeout; if the DLQ is unreachable too, it is reported. Its neighbour in
// the batch, published fine, is done either way.
func TestUnpublishedOutcomesGoToTheDLQAtOnce(t *testing.T) {
	tests := []struct {
		name         string
		dlqErr       error
		wantReported []events.SQSBatchItemFailure
	}{
		{"moved at once", nil, []events.SQSBatchItemFailure{}},
		{"DLQ unreachable too: left to the redrive policy", errors.New("AccessDenied"), []events.SQSBatchItemFailure{{ItemIdentifier: "lost"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &selectivePublisher{fail: "lost-trip"}
			dl := &fakeDeadLetters{err: tt.dlqErr}
			cfg := testConfig(pub)
			cfg.DeadLetters = dl
			h, err := lambdakit.New(book, cfg)
			require.NoError(t, err)
			resp := invoke(context.Background(), t, h,
				jobRecord(t, "lost", `{"tripId":"lost-trip"}`, nil),
				jobRecord(t, "good", `{"tripId":"t1"}`, nil),
			)
			assert.ElementsMatch(t, tt.wantReported, resp.BatchItemFailures)
			assert.Equal(t, 1, pub.ok, "the good neighbour's outcome is published")
			if tt.dlqErr == nil {
				assert.Contains(t, dl.reasons["lost"], "the function ran, but its outcome could not be published: publish the complete outcome: sns down")
				assert.NotContains(t, dl.reasons, "good")
			}
		})
	}
}

// selectivePublisher fails the outcomes whose variables mention fail.
type selectivePublisher struct {
	mu   sync.Mutex
	fail string
	ok   int
}

func (p *selectivePublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if strings.Contains(string(m.Body), p.fail) {
			errs[i] = errors.New("sns down")
			continue
		}
		p.ok++
	}
	return errs
}

// TestTokensComeBackWithTheOutcome: lambdakit hands a signed job's token back
// unchanged and seals the outcome with it, for every kind of outcome, so the
// fulfiller can check both; a job without a token gets an outcome without one.
func TestTokensComeBackWithTheOutcome(t *testing.T) {
	key := jobtoken.Key{ID: "k1", Secret: strings.Repeat("k", 32)}
	ring := jobtoken.Keyring{Current: key}
	for _, fail := range []string{"", "bpmn", "error", "panic"} {
		t.Run("fail="+fail, func(t *testing.T) {
			pub := &fakePublisher{}
			var token *jobmsg.Token
			resp := invoke(context.Background(), t, newHandler(t, pub), jobRecord(t, "m", `{"tripId":"t1","fail":"`+fail+`"}`, func(j *jobmsg.Job) {
				j.Token = jobtoken.Sign(key, j.Key, j.Deadline, j.Identifier())
				token = j.Token
			}))
			assert.Empty(t, resp.BatchItemFailures)
			require.Len(t, pub.outcomes, 1)
			o := pub.outcomes[0]
			assert.Equal(t, token, o.Token, "the token comes back untouched")
			assert.NoError(t, jobtoken.Check(ring, o, now().UnixMilli()), "and the seal checks out")
		})
	}
	pub := &fakePublisher{}
	invoke(context.Background(), t, newHandler(t, pub), jobRecord(t, "m", `{"tripId":"t1"}`, nil))
	require.Len(t, pub.outcomes, 1)
	assert.Nil(t, pub.outcomes[0].Token)
	assert.Empty(t, pub.outcomes[0].MAC)
}
