package tracing_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

// oneJobZeebe hands out one job, then long-polls empty.
type oneJobZeebe struct {
	once sync.Once
	job  jobmsg.Job
}

func (z *oneJobZeebe) ActivateJobs(ctx context.Context, _, _ string, _ int32, _, requestTimeout time.Duration) ([]jobmsg.Job, error) {
	var out []jobmsg.Job
	z.once.Do(func() { out = []jobmsg.Job{z.job} })
	if out != nil {
		return out, nil
	}
	select {
	case <-ctx.Done():
	case <-time.After(requestTimeout):
	}
	return nil, nil
}
func (z *oneJobZeebe) FailJob(context.Context, int64, int32, string, time.Duration) error { return nil }
func (z *oneJobZeebe) UpdateJobTimeout(context.Context, int64, time.Duration) error       { return nil }

// capture is an SNS publisher that keeps what it is given.
type capture struct {
	mu   sync.Mutex
	msgs []jobmsg.Message
}

func (c *capture) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, msgs...)
	return make([]error, len(msgs))
}

// completing is the Zeebe the fulfiller completes jobs on.
type completing struct{ keys []int64 }

func (z *completing) CompleteJob(_ context.Context, key int64, _ json.RawMessage) error {
	z.keys = append(z.keys, key)
	return nil
}
func (z *completing) FailJob(context.Context, int64, int32, string, time.Duration) error { return nil }
func (z *completing) ThrowError(context.Context, int64, string, string, json.RawMessage) error {
	return nil
}
func (z *completing) UpdateJobTimeout(context.Context, int64, time.Duration) error { return nil }

// asSQS is the record SQS hands a consumer for an SNS message delivered raw:
// the attributes become message attributes.
func asSQS(id string, m jobmsg.Message) events.SQSMessage {
	attrs := map[string]events.SQSMessageAttribute{}
	for k, v := range m.Attributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return events.SQSMessage{MessageId: id, EventSource: "aws:sqs", Body: string(m.Body), MessageAttributes: attrs,
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// TestOneTraceAcrossTheHops runs a job through the poller, a lambdakit
// function and the fulfiller, passing the messages as SNS and SQS would:
// one trace holds the three spans, each the child of the one before, each
// with the job key, and the handler's context is inside the function's span.
func TestOneTraceAcrossTheHops(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	const jobKey, pik = 2251799813685301, 2251799813685290

	// The poller publishes the job.
	zb := &oneJobZeebe{job: jobmsg.Job{Key: jobKey, ProcessInstanceKey: pik, Type: "lambda", ElementID: "Task_Book", BPMNProcessID: "p",
		CustomHeaders: map[string]string{"identifier": "book"}, Retries: 3, Variables: json.RawMessage(`{}`),
		Deadline: time.Now().Add(time.Minute).UnixMilli()}}
	jobs := &capture{}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	cfg := poller.Config{TopicARN: "arn:zeebe_jobs", JobType: "lambda", JobTimeout: time.Minute, MaxJobsActive: 32,
		Worker: "w", LongPoll: time.Second, SafetyMargin: 300 * time.Millisecond, PublishBackoff: time.Second}
	_, err := poller.Run(ctx, cfg, zb, jobs, joblog.Discard(), poller.WithTracing(tp))
	require.NoError(t, err)
	require.Len(t, jobs.msgs, 1)
	assert.Contains(t, jobs.msgs[0].Attributes, "traceparent")

	// The function runs it; its handler sees the function's span.
	var handlerSpan trace.SpanContext
	outcomes := &capture{}
	h, err := lambdakit.New(func(ctx context.Context, _ struct{}) (map[string]string, error) {
		handlerSpan = trace.SpanContextFromContext(ctx)
		return map[string]string{"booked": "yes"}, nil
	}, lambdakit.Config{Publisher: outcomes, OutcomeTopicARN: "arn:zeebe_jobs2complete", Logger: joblog.Discard(), TracerProvider: tp})
	require.NoError(t, err)
	payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{asSQS("m1", jobs.msgs[0])}})
	require.NoError(t, err)
	_, err = h.Invoke(context.Background(), payload)
	require.NoError(t, err)
	require.Len(t, outcomes.msgs, 1)

	// The fulfiller applies the outcome.
	engine := &completing{}
	f := fulfiller.New(engine, joblog.Discard())
	f.TracerProvider = tp
	resp, err := f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{asSQS("o1", outcomes.msgs[0])}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Equal(t, []int64{jobKey}, engine.keys)

	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		spans[s.Name] = s
	}
	require.Len(t, spans, 3, "poller, function and fulfiller spans")
	pub, fn, ful := spans["poller publish"], spans["lambdakit handle"], spans["fulfiller apply"]
	assert.Equal(t, pub.SpanContext.TraceID(), fn.SpanContext.TraceID(), "one trace")
	assert.Equal(t, pub.SpanContext.TraceID(), ful.SpanContext.TraceID(), "one trace")
	assert.Equal(t, pub.SpanContext.SpanID(), fn.Parent.SpanID(), "the function's span is the poller's child")
	assert.Equal(t, fn.SpanContext.SpanID(), ful.Parent.SpanID(), "the fulfiller's span is the function's child")
	assert.Equal(t, fn.SpanContext.SpanID(), handlerSpan.SpanID(), "the handler runs inside the function's span")
	for _, s := range []tracetest.SpanStub{pub, fn, ful} {
		var key int64
		for _, a := range s.Attributes {
			if a.Key == tracing.KeyJob {
				key = a.Value.AsInt64()
			}
		}
		assert.Equal(t, int64(jobKey), key, "%s carries the job key", s.Name)
	}
}

func TestNoSpanContextNoAttributes(t *testing.T) {
	assert.Nil(t, tracing.Inject(context.Background(), nil), "nothing to pass on")
	p, err := tracing.FromEnv(context.Background(), func(string) string { return "" }, "poller", nil)
	require.NoError(t, err)
	ctx, span := tracing.Tracer(p).Start(context.Background(), "x")
	defer span.End()
	assert.Empty(t, tracing.Inject(ctx, nil), "without OTEL_ endpoints nothing is recorded or passed on")
}
