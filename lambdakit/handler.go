package lambdakit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/smithy-go"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsbatch"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Handler runs a typed handler for the job messages of an SQS event, or for
// a direct invocation. It implements aws-lambda-go's lambda.Handler, so the
// Lambda runtime, tests and in-process harnesses all drive it through
// Invoke. It is safe for concurrent use.
type Handler struct {
	cfg Config
	// call decodes a JSON input into the handler's input type and runs the
	// handler; it hides In and Out so that Handler needs no type parameters.
	call func(ctx context.Context, input []byte) (any, error)
}

var _ lambda.Handler = (*Handler)(nil)

// New wraps h in a Handler. cfg needs a Publisher and an OutcomeTopicARN;
// zero values of the other fields take their defaults.
func New[In, Out any](h func(context.Context, In) (Out, error), cfg Config) (*Handler, error) {
	if h == nil {
		return nil, errors.New("lambdakit: nil handler")
	}
	if cfg.Publisher == nil || cfg.OutcomeTopicARN == "" {
		return nil, fmt.Errorf("lambdakit: the configuration needs a Publisher and an OutcomeTopicARN (%s)", EnvOutcomeTopicARN)
	}
	if cfg.RetryBackoff < 0 || cfg.DeadlineMargin < 0 {
		return nil, fmt.Errorf("lambdakit: negative RetryBackoff (%s) or DeadlineMargin (%s)", cfg.RetryBackoff, cfg.DeadlineMargin)
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.DeadlineMargin == 0 {
		cfg.DeadlineMargin = DefaultDeadlineMargin
	}
	if cfg.MaxVariablesBytes <= 0 {
		cfg.MaxVariablesBytes = DefaultMaxVariablesBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = joblog.New(os.Stderr, false)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	call := func(ctx context.Context, input []byte) (any, error) {
		var in In
		// Absent variables leave the input at its zero value, as Zeebe
		// jobs without variables are legitimate.
		if len(bytes.TrimSpace(input)) > 0 {
			if err := decodeInput(input, &in); err != nil {
				return nil, &inputError{typ: fmt.Sprintf("%T", in), err: err}
			}
		}
		return h(ctx, in)
	}
	return &Handler{cfg: cfg, call: call}, nil
}

// decodeInput is json.Unmarshal, except that a number decoded into an
// interface value is a json.Number, not a float64: an integer beyond 2^53
// (an order number, a snowflake id) or a long decimal keeps its written
// digits through the handler and back to Zeebe.
func decodeInput(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// json.Unmarshal refuses anything after the value; so does this.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("invalid character after the top-level value at offset %d", dec.InputOffset())
	}
	return nil
}

// Invoke implements lambda.Handler. An SQS event is processed as a batch of
// job messages and answered with an events.SQSEventResponse listing the
// records to retry (batchItemFailures); any other payload is a direct
// invocation, answered with the handler's output as JSON.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ev, isSQS, err := sqsEvent(payload)
	if err != nil {
		return nil, err
	}
	if isSQS {
		b := newBatcher(h.cfg.Publisher, h.cfg.OutcomeTopicARN)
		resp := sqsbatch.Process(ctx, ev, func(ctx context.Context, r events.SQSMessage) bool { return h.handleRecord(ctx, r, b.publish) })
		b.close()
		// Lambda may freeze the process once the invocation returns.
		tracing.Flush(context.WithoutCancel(ctx), h.cfg.TracerProvider)
		return json.Marshal(resp)
	}
	return h.invokeDirect(ctx, payload)
}

// sqsEvent tells an SQS event, {"Records":[{"eventSource":"aws:sqs",...}]},
// from anything else. A payload whose records come from another source (SNS,
// S3, ...) is not one: it goes to the handler as a direct invocation.
func sqsEvent(payload []byte) (events.SQSEvent, bool, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if json.Unmarshal(payload, &probe) != nil || probe.Records == nil {
		return events.SQSEvent{}, false, nil
	}
	sqsRecords := 0
	for _, r := range probe.Records {
		if r.EventSource == "aws:sqs" {
			sqsRecords++
		}
	}
	switch {
	case sqsRecords == 0 && len(probe.Records) > 0:
		return events.SQSEvent{}, false, nil
	case sqsRecords < len(probe.Records):
		// Taken as a direct invocation, its SQS records would never run and
		// yet be deleted: refuse the batch, so that SQS keeps them.
		return events.SQSEvent{}, false, fmt.Errorf("lambdakit: an SQS event with %d of its %d records from another event source: refusing the batch", len(probe.Records)-sqsRecords, len(probe.Records))
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		// It claims to be an SQS event but is not one we can read: fail the
		// invocation, so the whole batch goes to the DLQ rather than to the
		// handler as if it were its input.
		return events.SQSEvent{}, false, fmt.Errorf("lambdakit: unreadable SQS event: %w", err)
	}
	return ev, true, nil
}

// invokeDirect runs the handler on the payload as a plain Lambda would.
func (h *Handler) invokeDirect(ctx context.Context, payload []byte) (resp []byte, err error) {
	defer func() {
		// The runtime would recover too, but then exit the process; an
		// in-process harness would crash.
		if p := recover(); p != nil {
			pe := newPanicError(p)
			h.cfg.Logger.Error("handler panicked on a direct invocation", "panic", pe.Value(), "stack", pe.stack)
			resp, err = nil, pe
		}
	}()
	out, err := h.call(ctx, payload)
	var ie *inputError
	if errors.As(err, &ie) {
		return nil, errors.New(ie.as("the invocation's payload", "does"))
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// handleRecord processes one SQS record and reports whether it may be
// deleted from the queue.
// send publishes one outcome message (with those of the other records of the
// invocation, see batcher).
func (h *Handler) handleRecord(ctx context.Context, r events.SQSMessage, send func(context.Context, jobmsg.Message) error) bool {
	in, err := claimcheck.ReadJob(ctx, r, h.cfg.Payloads)
	ctx = tracing.ExtractRecord(ctx, in.Attributes, r.Attributes[tracing.AttrSQSTraceHeader])
	if err != nil && h.cfg.Events != nil && in.Attributes[jobmsg.AttrLambdaIdentifier] == "" {
		// Not a job message, and it does not claim to be one: a business event.
		return h.handleEvent(ctx, r)
	}
	switch claimcheck.Classify(err) {
	case claimcheck.Readable:
	case claimcheck.NoStore:
		// Named, the bucket tells the deployer which one to grant.
		p, _ := claimcheck.Parse(in.Body)
		return h.reject(ctx, r, in.Body, fmt.Sprintf("claim-check pointer to bucket %q, but the function has no %s", p.Bucket, claimcheck.EnvBucket), errNoBucket)
	case claimcheck.PayloadGone, claimcheck.PayloadUnavailable, claimcheck.PointerRefused:
		// Dead-lettered, the job goes back to Zeebe through the returner,
		// which reads the payload again.
		return h.reject(ctx, r, in.Body, "job message whose offloaded payload cannot be read", err)
	case claimcheck.UnsupportedVersion:
		return h.reject(ctx, r, in.Body, "job message of an unsupported contract version", err)
	default:
		return h.reject(ctx, r, in.Body, "not a job message", err)
	}
	job, payload := in.Message, in.Payload
	log := joblog.ForJob(h.cfg.Logger, job.Key, job.ProcessInstanceKey).With(
		"bpmnProcessId", job.BPMNProcessID, "elementId", job.ElementID, "messageId", r.MessageId)
	if n, ok := r.Attributes["ApproximateReceiveCount"]; ok {
		// On every line: operators (and the end-to-end tests) read from it
		// that SQS delivered the job once.
		log = log.With("receiveCount", n)
		if n != "1" {
			// The queue's redrive policy should allow one receive: SQS does
			// not retry jobs, Zeebe does.
			log.Warn("job message received more than once; check the queue's redrive policy (maxReceiveCount=1)")
		}
	}
	if job.Expired(h.cfg.Now()) {
		log.Warn("job deadline has passed: Zeebe has handed the job out again, so it is dropped without running",
			"deadline", job.DeadlineTime().UTC().Format(time.RFC3339Nano))
		return true
	}
	ctx, span := tracing.Tracer(h.cfg.TracerProvider).Start(ctx, "lambdakit handle", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(tracing.JobAttributes(job.Key, job.ProcessInstanceKey, job.ElementID, job.Identifier())...))
	defer span.End()
	start := time.Now()
	o := h.run(ctx, job, log)
	switch {
	case o.Outcome == kindPending:
		// Nothing to publish: the token's holder answers later.
		log.Info("handler answered pending; the job waits for its completion token", append([]any{"durationMs", time.Since(start).Milliseconds(),
			"deadline", job.DeadlineTime().UTC().Format(time.RFC3339Nano)},
			emf.Attrs(job.Identifier(), time.Now(), emf.N("OutcomesPending", 1), emf.Ms("HandlerMs", time.Since(start)))...)...)
	case o.Outcome != jobmsg.Complete:
		span.SetStatus(otelcodes.Error, string(o.Outcome)+": "+o.ErrorMessage)
		fallthrough
	default:
		err = h.publish(ctx, job, o, time.Since(start), log, send)
	}
	if err == nil {
		if payload != nil {
			// Served; the bucket's lifecycle rule removes what is never deleted.
			if derr := h.cfg.Payloads.Delete(ctx, *payload); derr != nil {
				log.Warn("could not delete the job's offloaded payload; the bucket's lifecycle rule will", "error", derr)
			}
		}
		return true
	}
	// The outcome is lost. Dead-lettered now, the job message reaches the
	// returner at once, which hands the job back to Zeebe with its retries
	// unchanged; reported as a batch item failure instead, it would reach the
	// DLQ only after the queue's visibility timeout.
	if h.cfg.DeadLetters != nil {
		derr := h.cfg.DeadLetters.DeadLetter(ctx, r, fmt.Sprintf("the function ran, but its outcome could not be published: %v", err), causeOf(err))
		if derr == nil {
			log.Error("cannot publish the outcome; the job message was moved to the DLQ at once, to be handed back to Zeebe", "error", err)
			return true
		}
		log.Error("could not move the record to the DLQ either", "error", derr)
	}
	log.Error("cannot publish the outcome; reporting the record (it reaches the DLQ after the queue's visibility timeout)", "error", err)
	return false
}

// handleEvent gives a record that is not a job message to Config.Events and
// reports whether it may be deleted.
func (h *Handler) handleEvent(ctx context.Context, r events.SQSMessage) (ok bool) {
	log := h.cfg.Logger.With("messageId", r.MessageId, "eventSourceARN", r.EventSourceARN)
	defer func() {
		if p := recover(); p != nil {
			pe := newPanicError(p)
			log.Error("event handler panicked; the record reaches the DLQ (one receive)", "panic", pe.Value(), "stack", pe.stack)
			ok = false
		}
	}()
	if err := h.cfg.Events(ctx, r); err != nil {
		log.Error("event handler failed; the record reaches the DLQ (one receive)",
			append([]any{"error", err}, emf.Attrs(lambdacontext.FunctionName, time.Now(), emf.N("EventsFailed", 1))...)...)
		return false
	}
	log.Info("event handled", emf.Attrs(lambdacontext.FunctionName, time.Now(), emf.N("EventsHandled", 1))...)
	return true
}

// configurationCodes are the AWS error codes of a deployment that cannot
// work: a bucket or topic that does not exist or that the function's role may
// not use. Retrying the job cannot help until a person fixes it.
var configurationCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "AllAccessDisabled": true,
	"NoSuchBucket": true, "InvalidBucketName": true,
	"AuthorizationError": true, "NotFound": true, "KMSAccessDenied": true, "KMSDisabled": true, "KMSInvalidState": true,
}

// errNoBucket is claimcheck.ErrNoStore as the function's deployer reads it.
var errNoBucket = errors.New("the job's payload is in S3: deploy the function with the bridge's payload bucket (module zeebe-lambda, variable payloads)")

// causeOf classifies the error that dead-letters a record, for the returner:
// a configuration fault makes it fail the job for good (an incident) instead
// of handing it back to fail again.
func causeOf(err error) sqsretry.Cause {
	var api smithy.APIError
	if errors.Is(err, errNoBucket) || errors.Is(err, claimcheck.ErrNoStore) || (errors.As(err, &api) && configurationCodes[api.ErrorCode()]) {
		return sqsretry.CauseConfiguration
	}
	return sqsretry.CauseUnknown
}

// reject moves a record that cannot be handled as a job to the DLQ at once,
// with the reason, or reports it so that it gets there after the visibility
// timeout; it says whether the record may be deleted. body is the record's
// message, unwrapped, for the keys on the log line.
func (h *Handler) reject(ctx context.Context, r events.SQSMessage, body []byte, reason string, err error) bool {
	jobKey, pik := jobmsg.PeekKeys(body) // the message, not its SNS envelope
	log := joblog.ForJob(h.cfg.Logger, jobKey, pik).With("messageId", r.MessageId, "eventSourceARN", r.EventSourceARN, "reason", err.Error(),
		"receiveCount", r.Attributes["ApproximateReceiveCount"])
	if h.cfg.DeadLetters != nil {
		derr := h.cfg.DeadLetters.DeadLetter(ctx, r, fmt.Sprintf("%s: %v", reason, err), causeOf(err))
		if derr == nil {
			log.Error("rejecting SQS record: " + reason + "; moved to the DLQ at once")
			return true
		}
		log.Error("could not move the record to the DLQ; it gets there when its visibility timeout ends", "error", derr)
	}
	log.Error("rejecting SQS record: " + reason + "; reported as a batch item failure so it reaches the DLQ")
	return false
}

// publish sends the job's outcome; an error means it was not accepted.
func (h *Handler) publish(ctx context.Context, job jobmsg.Job, o jobmsg.Outcome, took time.Duration, log *slog.Logger, send func(context.Context, jobmsg.Message) error) error {
	if n := len(o.Variables); n > h.cfg.MaxVariablesBytes {
		log.Error("result too large for Zeebe; failing the job with retries 0 instead", "outcome", string(o.Outcome), "bytes", n)
		o = beyondZeebe(o, n, h.cfg.MaxVariablesBytes)
	}
	o, err := jobtoken.Attach(job, o)
	if err != nil {
		return err
	}
	msg, offloaded, err := claimcheck.EncodeOutcome(ctx, h.cfg.Payloads, job.Identifier(), job.Key, job.Deadline, o)
	if errors.Is(err, claimcheck.ErrOffload) {
		return fmt.Errorf("offload the %s outcome: %w", o.Outcome, err)
	}
	if offloaded {
		log.Info("outcome offloaded to S3", "bytes", msg.Attributes[claimcheck.AttrSize])
	}
	if errors.Is(err, jobmsg.ErrTooLarge) {
		log.Error("outcome too large for SNS; failing the job with retries 0 instead", "outcome", string(o.Outcome), "error", err)
		if o, err = jobtoken.Attach(job, tooLarge(o, err)); err != nil {
			return err
		}
		msg, err = jobmsg.EncodeOutcome(o)
	}
	if err != nil {
		return fmt.Errorf("encode the %s outcome: %w", o.Outcome, err)
	}
	// The outcome carries the job's span on to the fulfiller.
	msg.Attributes = tracing.Inject(ctx, maps.Clone(msg.Attributes))
	// The handler context may be spent, but ctx still has DeadlineMargin
	// left before the Lambda deadline: that is what the margin is for.
	if err := send(ctx, msg); err != nil {
		return fmt.Errorf("publish the %s outcome: %w", o.Outcome, err)
	}
	log.Info("outcome published", append([]any{"outcome", string(o.Outcome), "retries", o.Retries,
		"errorCode", o.ErrorCode, "errorMessage", o.ErrorMessage, "durationMs", took.Milliseconds()},
		emf.Attrs(job.Identifier(), time.Now(), emf.N("OutcomesPublished", 1), emf.N(outcomeMetric[o.Outcome], 1), emf.Ms("HandlerMs", took))...)...)
	return nil
}

// outcomeMetric names the per-kind count on the "outcome published" line.
var outcomeMetric = map[jobmsg.Kind]string{jobmsg.Complete: "OutcomesComplete", jobmsg.Fail: "OutcomesFail", jobmsg.Error: "OutcomesError"}

// beyondZeebe replaces an outcome whose variables Zeebe would reject with a
// failure naming both limits: a retry would produce the same result.
func beyondZeebe(o jobmsg.Outcome, n, limit int) jobmsg.Outcome {
	return jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: fmt.Sprintf(
		"the handler's %s result is %d bytes of variables: above Zeebe's limit of %d bytes per command (%s), which no offloading can pass (the bridge moves what exceeds SNS's 256 KiB per message to S3, but Zeebe must hold the variables themselves); return less data, or store it elsewhere and return a reference",
		o.Outcome, n, limit, EnvMaxVariablesBytes)}
}

// tooLarge replaces an outcome SNS would reject with a failure that says so.
// Retrying would produce the same oversized result, so retries are 0: an
// incident tells a person to shrink the result (or store it elsewhere and
// return a reference).
func tooLarge(o jobmsg.Outcome, err error) jobmsg.Outcome {
	what := "the handler's result is"
	if o.Outcome == jobmsg.Error {
		what = fmt.Sprintf("the variables of BPMN error %s are", o.ErrorCode)
	}
	return jobmsg.Outcome{
		JobKey: o.JobKey, ProcessInstanceKey: o.ProcessInstanceKey, Outcome: jobmsg.Fail, Retries: 0,
		ErrorMessage: fmt.Sprintf("%s too large for SNS (256 KiB): %v; return less data, or store it elsewhere and return a reference", what, err),
	}
}
