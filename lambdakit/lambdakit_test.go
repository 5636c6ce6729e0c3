package lambdakit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envcfg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

type fakePublisher struct {
	mu       sync.Mutex
	outcomes []jobmsg.Outcome
	attrs    []map[string]string
	err      error
}

func (p *fakePublisher) Publish(_ context.Context, topic string, msgs []jobmsg.Message) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if p.err != nil {
			errs[i] = p.err
			continue
		}
		if topic != "arn:zeebe_jobs2complete" {
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

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type Trip struct {
	TripID string `json:"tripId"`
	Fail   string `json:"fail"`
}

type Booking struct {
	BookingID string `json:"bookingId"`
}

func book(ctx context.Context, in Trip) (Booking, error) {
	switch in.Fail {
	case "bpmn":
		return Booking{}, lambdakit.BPMNError("NO_ROOM", "hotel full", map[string]any{"reason": "full"})
	case "wrapped-bpmn":
		return Booking{}, fmt.Errorf("booking: %w", lambdakit.BPMNError("NO_ROOM", "hotel full", nil))
	case "error":
		return Booking{}, errors.New("database unreachable")
	case "panic":
		panic("nil map write")
	case "block":
		<-ctx.Done()
		return Booking{}, ctx.Err()
	}
	return Booking{BookingID: "H-" + in.TripID}, nil
}

func newHandler(t *testing.T, pub *fakePublisher) *lambdakit.Handler {
	t.Helper()
	h, err := lambdakit.New(book, lambdakit.Config{
		Publisher: pub, OutcomeTopicARN: "arn:zeebe_jobs2complete",
		RetryBackoff: 3 * time.Second, DeadlineMargin: 100 * time.Millisecond,
		Logger: joblog.Discard(), Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	return h
}

func jobRecord(t *testing.T, id string, vars string, mutate func(*jobmsg.Job)) events.SQSMessage {
	t.Helper()
	j := jobmsg.Job{Key: 100, ProcessInstanceKey: 200, Type: "lambda", ElementID: "Task_BookHotel", BPMNProcessID: "trip",
		CustomHeaders: map[string]string{"identifier": "book-hotel"}, Retries: 3,
		Deadline: now.Add(time.Minute).UnixMilli(), Variables: json.RawMessage(vars)}
	if mutate != nil {
		mutate(&j)
	}
	m, err := jobmsg.EncodeJob(j)
	require.NoError(t, err)
	return events.SQSMessage{MessageId: id, Body: string(m.Body), EventSource: "aws:sqs"}
}

func invoke(t *testing.T, h *lambdakit.Handler, ctx context.Context, recs ...events.SQSMessage) events.SQSEventResponse {
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
		name   string
		vars   string
		mutate func(*jobmsg.Job)
		want   jobmsg.Outcome
	}{
		{name: "complete", vars: `{"tripId":"t1"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"bookingId":"H-t1"}`)}},
		{name: "complete under resultVariable", vars: `{"tripId":"t1"}`,
			mutate: func(j *jobmsg.Job) { j.CustomHeaders["resultVariable"] = "hotel" },
			want:   jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"hotel":{"bookingId":"H-t1"}}`)}},
		{name: "bpmn error", vars: `{"fail":"bpmn"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOM", ErrorMessage: "hotel full", Variables: json.RawMessage(`{"reason":"full"}`)}},
		{name: "wrapped bpmn error", vars: `{"fail":"wrapped-bpmn"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOM", ErrorMessage: "hotel full", Variables: json.RawMessage(`{}`)}},
		{name: "error fails with retries-1", vars: `{"fail":"error"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 3000, ErrorMessage: "database unreachable"}},
		{name: "last retry fails to zero", vars: `{"fail":"error"}`, mutate: func(j *jobmsg.Job) { j.Retries = 1 },
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, RetryBackoffMs: 3000, ErrorMessage: "database unreachable"}},
		{name: "zero stays zero", vars: `{"fail":"error"}`, mutate: func(j *jobmsg.Job) { j.Retries = 0 },
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, RetryBackoffMs: 3000, ErrorMessage: "database unreachable"}},
		{name: "panic fails", vars: `{"fail":"panic"}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 3000, ErrorMessage: "handler panicked: nil map write"}},
		{name: "variables of the wrong type fail", vars: `{"tripId":42}`,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			resp := invoke(t, newHandler(t, pub), context.Background(), jobRecord(t, "m1", tt.vars, tt.mutate))
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
			if tt.want.Variables != nil {
				assert.JSONEq(t, string(tt.want.Variables), string(got.Variables))
			}
			assert.Equal(t, string(tt.want.Outcome), pub.attrs[0]["outcome"])
		})
	}
}

func TestNonObjectResultNeedsResultVariable(t *testing.T) {
	pub := &fakePublisher{}
	h, err := lambdakit.New(func(context.Context, struct{}) (string, error) { return "ok", nil },
		lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:zeebe_jobs2complete", Logger: joblog.Discard(), Now: func() time.Time { return now }})
	require.NoError(t, err)

	invoke(t, h, context.Background(), jobRecord(t, "m1", `{}`, nil))
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
	assert.Equal(t, int32(0), pub.outcomes[0].Retries, "a modelling error raises an incident at once")
	assert.Contains(t, pub.outcomes[0].ErrorMessage, `"resultVariable"`)

	invoke(t, h, context.Background(), jobRecord(t, "m2", `{}`, func(j *jobmsg.Job) { j.CustomHeaders["resultVariable"] = "status" }))
	require.Len(t, pub.outcomes, 2)
	assert.Equal(t, jobmsg.Complete, pub.outcomes[1].Outcome)
	assert.JSONEq(t, `{"status":"ok"}`, string(pub.outcomes[1].Variables))
}

func TestHandlerOutlivingTheLambdaDeadlineFailsTheJob(t *testing.T) {
	pub := &fakePublisher{}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp := invoke(t, newHandler(t, pub), ctx, jobRecord(t, "m1", `{"fail":"block"}`, nil))
	elapsed := time.Since(start)

	assert.Empty(t, resp.BatchItemFailures)
	assert.Less(t, elapsed, 400*time.Millisecond, "must answer before the Lambda deadline")
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
	assert.Equal(t, int32(2), pub.outcomes[0].Retries)
	assert.Contains(t, pub.outcomes[0].ErrorMessage, "timed out")
}

func TestAbandonedHandlerDoesNotPublishTwice(t *testing.T) {
	pub := &fakePublisher{}
	release := make(chan struct{})
	var finished atomic.Bool
	h, err := lambdakit.New(func(context.Context, struct{}) (map[string]int, error) {
		<-release // ignores its context, like a handler stuck in a blocking call
		finished.Store(true)
		return map[string]int{"late": 1}, nil
	}, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:zeebe_jobs2complete", DeadlineMargin: 50 * time.Millisecond,
		Logger: joblog.Discard(), Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	invoke(t, h, ctx, jobRecord(t, "m1", `{}`, nil))
	close(release)
	require.Eventually(t, finished.Load, time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	pub.mu.Lock()
	defer pub.mu.Unlock()
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
}

func TestStaleJobIsDroppedWithoutRunning(t *testing.T) {
	var ran atomic.Bool
	pub := &fakePublisher{}
	h, err := lambdakit.New(func(context.Context, struct{}) (struct{}, error) { ran.Store(true); return struct{}{}, nil },
		lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:zeebe_jobs2complete", Logger: joblog.Discard(), Now: func() time.Time { return now }})
	require.NoError(t, err)
	resp := invoke(t, h, context.Background(), jobRecord(t, "m1", `{}`, func(j *jobmsg.Job) { j.Deadline = now.Add(-time.Second).UnixMilli() }))
	assert.Empty(t, resp.BatchItemFailures, "a stale job is acknowledged")
	assert.False(t, ran.Load())
	assert.Empty(t, pub.outcomes)
}

func TestBadRecordsAndPublishFailuresAreReportedAlone(t *testing.T) {
	pub := &fakePublisher{}
	h := newHandler(t, pub)
	good := jobRecord(t, "good", `{"tripId":"t1"}`, nil)
	resp := invoke(t, h, context.Background(),
		events.SQSMessage{MessageId: "garbage", Body: "{", EventSource: "aws:sqs"},
		events.SQSMessage{MessageId: "future", Body: `{"v":9,"key":1,"customHeaders":{"identifier":"x"}}`, EventSource: "aws:sqs"},
		good,
	)
	assert.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "garbage"}, {ItemIdentifier: "future"}}, resp.BatchItemFailures)
	require.Len(t, pub.outcomes, 1)

	failing := &fakePublisher{err: errors.New("sns down")}
	resp = invoke(t, newHandler(t, failing), context.Background(), good)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "good"}}, resp.BatchItemFailures)
}

func TestTooLargeResultFailsTheJob(t *testing.T) {
	pub := &fakePublisher{}
	h, err := lambdakit.New(func(context.Context, struct{}) (map[string]string, error) {
		return map[string]string{"blob": strings.Repeat("x", jobmsg.MaxMessageBytes)}, nil
	}, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:zeebe_jobs2complete", Logger: joblog.Discard(), Now: func() time.Time { return now }})
	require.NoError(t, err)
	resp := invoke(t, h, context.Background(), jobRecord(t, "m1", `{}`, nil))
	assert.Empty(t, resp.BatchItemFailures)
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
	assert.Equal(t, int32(0), pub.outcomes[0].Retries)
	assert.Contains(t, pub.outcomes[0].ErrorMessage, "256 KiB")
}

func TestSNSEnvelopeAndRawDelivery(t *testing.T) {
	pub := &fakePublisher{}
	raw := jobRecord(t, "raw", `{"tripId":"raw"}`, nil)
	wrapped := jobRecord(t, "wrapped", `{"tripId":"wrapped"}`, func(j *jobmsg.Job) { j.Key = 101 })
	b, err := json.Marshal(map[string]string{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:000000000000:zeebe_jobs", "Message": wrapped.Body})
	require.NoError(t, err)
	wrapped.Body = string(b)
	resp := invoke(t, newHandler(t, pub), context.Background(), raw, wrapped)
	assert.Empty(t, resp.BatchItemFailures)
	var ids []string
	for _, o := range pub.outcomes {
		var v Booking
		require.NoError(t, json.Unmarshal(o.Variables, &v))
		ids = append(ids, v.BookingID)
	}
	assert.ElementsMatch(t, []string{"H-raw", "H-wrapped"}, ids)
}

func TestDirectInvocationReachesTheHandlerAndPublishesNothing(t *testing.T) {
	pub := &fakePublisher{}
	out, err := newHandler(t, pub).Invoke(context.Background(), []byte(`{"tripId":"direct"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"bookingId":"H-direct"}`, string(out))
	assert.Empty(t, pub.outcomes)

	_, err = newHandler(t, pub).Invoke(context.Background(), []byte(`{"fail":"error"}`))
	require.EqualError(t, err, "database unreachable")
}

func TestJobFromContext(t *testing.T) {
	pub := &fakePublisher{}
	var seen jobmsg.Job
	h, err := lambdakit.New(func(ctx context.Context, _ struct{}) (struct{}, error) {
		seen, _ = lambdakit.JobFromContext(ctx)
		return struct{}{}, nil
	}, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:zeebe_jobs2complete", Logger: joblog.Discard(), Now: func() time.Time { return now }})
	require.NoError(t, err)
	invoke(t, h, context.Background(), jobRecord(t, "m1", `{}`, nil))
	assert.Equal(t, int64(100), seen.Key)
	assert.Equal(t, "book-hotel", seen.Identifier())
	assert.Equal(t, int32(3), seen.Retries)
	_, ok := lambdakit.JobFromContext(context.Background())
	assert.False(t, ok)
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		wantIs  error
	}{
		{"missing topic", map[string]string{}, "ZEEBE_FULFILLER_SNS_ARN", envcfg.ErrMissing},
		{"bad backoff", map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "RETRY_BACKOFF": "soon"}, "RETRY_BACKOFF", envcfg.ErrInvalid},
		{"bad margin", map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "DEADLINE_MARGIN": "-1s"}, "DEADLINE_MARGIN", envcfg.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lambdakit.ConfigFromEnv(context.Background(), envcfg.Map(tt.env))
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorIs(t, err, tt.wantIs)
		})
	}
	c, err := lambdakit.ConfigFromEnv(context.Background(), envcfg.Map(map[string]string{"ZEEBE_FULFILLER_SNS_ARN": "arn", "RETRY_BACKOFF": "10s", "AWS_REGION": "us-east-1"}))
	require.NoError(t, err)
	assert.Equal(t, "arn", c.OutcomeTopicARN)
	assert.Equal(t, 10*time.Second, c.RetryBackoff)
	assert.Equal(t, lambdakit.DefaultDeadlineMargin, c.DeadlineMargin)
}
