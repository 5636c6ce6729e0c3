// Package lambdakit turns a plain Go handler into an AWS Lambda that a Zeebe
// process can call through zeebe-lambda-bridge, without the function knowing
// anything about Zeebe.
//
//	func main() { lambdakit.Start(bookHotel) }
//
//	func bookHotel(ctx context.Context, in Trip) (Booking, error) { ... }
//
// The function's SQS queue delivers job messages; lambdakit decodes each
// job's variables into the handler's input type, runs the handler and
// publishes the outcome to the zeebe_jobs2complete topic:
//
//   - a returned value completes the job with the value as variables (under
//     the task header resultVariable when the model sets one);
//   - an error made with BPMNError throws that BPMN error in the process;
//   - any other error, or a panic, fails the job with its retries less one, so
//     Zeebe retries it and raises an incident at zero (SQS never retries);
//   - a handler still running shortly before the Lambda deadline fails the job
//     the same way, since a killed Lambda could publish nothing;
//   - a job whose deadline has passed is dropped: Zeebe has handed it out again.
//
// Batches are reported with ReportBatchItemFailures: a record fails alone,
// and only when its message is malformed or its outcome could not be
// published. An event that is not an SQS event goes to the handler as it is,
// so the same function can also be invoked directly.
package lambdakit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envcfg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsbatch"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/snspub"
)

// Publisher publishes messages to an SNS topic, one error per message;
// *snspub.Publisher is the real one.
type Publisher interface {
	Publish(ctx context.Context, topicARN string, msgs []jobmsg.Message) []error
}

// Config configures a Handler.
type Config struct {
	// Publisher and OutcomeTopicARN say where outcomes go (zeebe_jobs2complete).
	Publisher       Publisher
	OutcomeTopicARN string
	// RetryBackoff is how long Zeebe waits before handing out a failed job again.
	RetryBackoff time.Duration
	// DeadlineMargin is how long before the Lambda deadline a running handler
	// is given up and the job failed, leaving time to publish that.
	DeadlineMargin time.Duration
	// Logger receives JSON log lines; nil means stderr.
	Logger *slog.Logger
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}

// Defaults for Config.
const (
	DefaultRetryBackoff   = 5 * time.Second
	DefaultDeadlineMargin = 2 * time.Second
)

// Environment variables read by ConfigFromEnv.
const (
	EnvOutcomeTopicARN = "ZEEBE_FULFILLER_SNS_ARN"
	EnvRetryBackoff    = "RETRY_BACKOFF"
	EnvDeadlineMargin  = "DEADLINE_MARGIN"
	EnvLogLevel        = "LOG_LEVEL"
)

// ConfigFromEnv builds the configuration Start uses: the outcome topic from
// ZEEBE_FULFILLER_SNS_ARN, RETRY_BACKOFF and DEADLINE_MARGIN as Go durations,
// and an SNS client from the AWS SDK's default chain (AWS_ENDPOINT_URL
// included, for LocalStack).
func ConfigFromEnv(ctx context.Context, getenv envcfg.Getenv) (Config, error) {
	topic, err := getenv.Required(EnvOutcomeTopicARN, "the ARN of the zeebe_jobs2complete SNS topic")
	if err != nil {
		return Config{}, err
	}
	backoff, err := getenv.Duration(EnvRetryBackoff, DefaultRetryBackoff)
	if err != nil {
		return Config{}, err
	}
	margin, err := getenv.Duration(EnvDeadlineMargin, DefaultDeadlineMargin)
	if err != nil {
		return Config{}, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return Config{
		Publisher:       snspub.New(sns.NewFromConfig(awsCfg)),
		OutcomeTopicARN: topic,
		RetryBackoff:    backoff,
		DeadlineMargin:  margin,
		Logger:          joblog.New(os.Stderr, getenv(EnvLogLevel) == "debug"),
	}, nil
}

// Start configures a Handler from the environment and hands it to the Lambda
// runtime. A configuration problem is printed as one line naming the
// variable, and the process exits with status 1.
func Start[In, Out any](h func(context.Context, In) (Out, error)) {
	cfg, err := ConfigFromEnv(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdakit:", err)
		os.Exit(1)
	}
	handler, err := New(h, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdakit:", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}

// Handler is a lambda.Handler that runs a typed function for job messages.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	invoke func(ctx context.Context, vars []byte) (any, error)
}

var _ lambda.Handler = (*Handler)(nil)

// New wraps h. The configuration needs a Publisher and an OutcomeTopicARN.
func New[In, Out any](h func(context.Context, In) (Out, error), cfg Config) (*Handler, error) {
	if h == nil {
		return nil, errors.New("lambdakit: nil handler")
	}
	if cfg.Publisher == nil || cfg.OutcomeTopicARN == "" {
		return nil, fmt.Errorf("lambdakit: the configuration needs a Publisher and an OutcomeTopicARN (%s)", EnvOutcomeTopicARN)
	}
	if cfg.Logger == nil {
		cfg.Logger = joblog.New(os.Stderr, false)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DeadlineMargin <= 0 {
		cfg.DeadlineMargin = DefaultDeadlineMargin
	}
	return &Handler{
		cfg: cfg,
		log: cfg.Logger,
		invoke: func(ctx context.Context, vars []byte) (any, error) {
			var in In
			if len(bytes.TrimSpace(vars)) > 0 {
				if err := json.Unmarshal(vars, &in); err != nil {
					return nil, &inputError{fmt.Errorf("the job's variables do not fit the handler's input type %T: %w", in, err)}
				}
			}
			return h(ctx, in)
		},
	}, nil
}

// inputError marks variables that cannot be decoded into the input type.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// Invoke implements lambda.Handler.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if ev, ok := asSQSEvent(payload); ok {
		resp := sqsbatch.Process(ctx, ev, h.handleRecord)
		return json.Marshal(resp)
	}
	// Not an SQS event: a direct invocation, answered like a plain Lambda.
	out, err := h.invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func asSQSEvent(payload []byte) (events.SQSEvent, bool) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if json.Unmarshal(payload, &probe) != nil || probe.Records == nil {
		return events.SQSEvent{}, false
	}
	for _, r := range probe.Records {
		if r.EventSource != "aws:sqs" {
			return events.SQSEvent{}, false
		}
	}
	var ev events.SQSEvent
	if json.Unmarshal(payload, &ev) != nil {
		return events.SQSEvent{}, false
	}
	return ev, true
}

// handleRecord processes one job message and reports whether the record may
// be deleted from the queue.
func (h *Handler) handleRecord(ctx context.Context, r events.SQSMessage) bool {
	body, _ := jobmsg.UnwrapRecord(r)
	job, err := jobmsg.DecodeJob(body)
	if err != nil {
		h.log.Error("record is not a job message; reporting it so it reaches the DLQ", "messageId", r.MessageId, "error", err)
		return false
	}
	log := joblog.ForJob(h.log, job.Key, job.ProcessInstanceKey).With("elementId", job.ElementID, "messageId", r.MessageId)
	if n, ok := r.Attributes["ApproximateReceiveCount"]; ok {
		// Always 1 when the queue's redrive works: SQS does not retry jobs.
		log = log.With("receiveCount", n)
	}
	now := h.cfg.Now()
	if job.Deadline > 0 && now.After(job.DeadlineTime()) {
		log.Warn("job deadline has passed; Zeebe has handed the job out again, so it is dropped without running",
			"deadline", job.DeadlineTime().UTC().Format(time.RFC3339Nano))
		return true
	}
	o := h.run(ctx, job, log)
	o.JobKey, o.ProcessInstanceKey = job.Key, job.ProcessInstanceKey
	msg, err := jobmsg.EncodeOutcome(o)
	if errors.Is(err, jobmsg.ErrTooLarge) {
		log.Error("outcome too large for SNS; failing the job instead", "error", err)
		o = jobmsg.Outcome{JobKey: job.Key, ProcessInstanceKey: job.ProcessInstanceKey, Outcome: jobmsg.Fail, Retries: 0,
			ErrorMessage: fmt.Sprintf("the function's result is too large for SNS (256 KiB): %v; return less data or store it elsewhere and return a reference", err)}
		msg, err = jobmsg.EncodeOutcome(o)
	}
	if err != nil {
		log.Error("cannot encode outcome", "error", err)
		return false
	}
	if errs := h.cfg.Publisher.Publish(context.WithoutCancel(ctx), h.cfg.OutcomeTopicARN, []jobmsg.Message{msg}); errs[0] != nil {
		log.Error("could not publish the outcome; reporting the record (it goes to the DLQ and the job times out in Zeebe)", "outcome", string(o.Outcome), "error", errs[0])
		return false
	}
	log.Info("outcome published", "outcome", string(o.Outcome), "retries", o.Retries, "errorCode", o.ErrorCode, "errorMessage", o.ErrorMessage)
	return true
}

type result struct {
	out any
	err error
}

// run executes the handler for one job and turns what happened into an outcome.
func (h *Handler) run(ctx context.Context, job jobmsg.Job, log *slog.Logger) jobmsg.Outcome {
	hctx := withJob(ctx, job)
	var cancel context.CancelFunc
	var budget time.Duration
	if d, ok := ctx.Deadline(); ok {
		hctx, cancel = context.WithDeadline(hctx, d.Add(-h.cfg.DeadlineMargin))
		budget = time.Until(d)
	} else {
		hctx, cancel = context.WithCancel(hctx)
	}
	defer cancel()

	done := make(chan result, 1) // buffered: an abandoned handler must not block forever
	go func() {
		defer func() {
			if p := recover(); p != nil {
				log.Error("handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				done <- result{err: &panicError{value: p}}
			}
		}()
		out, err := h.invoke(hctx, job.Variables)
		done <- result{out: out, err: err}
	}()

	select {
	case res := <-done:
		return h.classify(job, res, log)
	case <-hctx.Done():
		if ctx.Err() != nil && !errors.Is(hctx.Err(), context.DeadlineExceeded) {
			return h.failure(job, fmt.Sprintf("handler interrupted: %v", ctx.Err()))
		}
		log.Error("handler still running close to the Lambda deadline; failing the job", "margin", h.cfg.DeadlineMargin.String())
		return h.failure(job, fmt.Sprintf("handler timed out: still running %s before the Lambda deadline (the invocation had %s)",
			h.cfg.DeadlineMargin, budget.Round(100*time.Millisecond)))
	}
}

func (h *Handler) classify(job jobmsg.Job, res result, log *slog.Logger) jobmsg.Outcome {
	var be *bpmnError
	switch {
	case errors.As(res.err, &be) && be.code == "":
		return h.failure(job, "lambdakit.BPMNError needs an error code: "+be.message)
	case errors.As(res.err, &be):
		vars, err := variables(be.vars, "")
		if err != nil {
			return h.failure(job, fmt.Sprintf("BPMN error %s: its variables: %v", be.code, err))
		}
		return jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: be.code, ErrorMessage: be.message, Variables: vars}
	case res.err != nil:
		var pe *panicError
		if !errors.As(res.err, &pe) {
			log.Warn("handler failed", "error", res.err)
		}
		return h.failure(job, res.err.Error())
	}
	vars, err := variables(res.out, job.CustomHeaders[jobmsg.HeaderResultVariable])
	if err != nil {
		// A modelling problem a retry cannot fix: raise an incident at once.
		return jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: err.Error()}
	}
	return jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: vars}
}

// failure is the outcome of a failed attempt: Zeebe retries it with one retry less.
func (h *Handler) failure(job jobmsg.Job, msg string) jobmsg.Outcome {
	return jobmsg.Outcome{
		Outcome:        jobmsg.Fail,
		Retries:        max(job.Retries-1, 0),
		RetryBackoffMs: h.cfg.RetryBackoff.Milliseconds(),
		ErrorMessage:   msg,
	}
}

// variables renders a handler's output as the job's variables: a JSON
// object, wrapped under resultVariable when the model names one.
func variables(out any, resultVariable string) (json.RawMessage, error) {
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("the handler's result cannot be encoded as JSON: %w", err)
	}
	if resultVariable != "" {
		return json.Marshal(map[string]json.RawMessage{resultVariable: raw})
	}
	trimmed := bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(trimmed, []byte("null")):
		return json.RawMessage("{}"), nil
	case len(trimmed) > 0 && trimmed[0] == '{':
		return raw, nil
	default:
		return nil, fmt.Errorf("the handler returned %s, which is not a JSON object: set the task header %q to the variable name it should be stored under", truncate(trimmed, 60), jobmsg.HeaderResultVariable)
	}
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.value) }
