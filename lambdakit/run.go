package lambdakit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// MaxErrorMessageBytes caps the error message of a failed job. A handler
// error that long is a bug of its own; capping it (with a note saying so)
// keeps the failure from being replaced by a "too large for SNS" one that
// would cost the job its retries.
const MaxErrorMessageBytes = 16 * 1024

// errTimedOut is the cause of a handler context that reached
// Lambda deadline - DeadlineMargin; errJobTimedOut of one that reached the
// job's deadline - DeadlineMargin first.
var (
	errTimedOut    = errors.New("lambdakit: handler deadline (Lambda deadline minus DeadlineMargin) reached")
	errJobTimedOut = errors.New("lambdakit: handler deadline (job deadline minus DeadlineMargin) reached")
)

type result struct {
	out any
	err error
}

// run executes the handler for one job and turns what happened into an
// outcome (without job and process instance keys).
func (h *Handler) run(ctx context.Context, job jobmsg.Job, log *slog.Logger) jobmsg.Outcome {
	hctx := withJob(ctx, job)
	var cancel context.CancelFunc
	var budget time.Duration // what the handler gets; 0 when neither has a deadline
	if stop, cause := h.stopAt(ctx, job); cause != nil {
		budget = time.Until(stop)
		hctx, cancel = context.WithDeadlineCause(hctx, stop, cause)
	} else {
		hctx, cancel = context.WithCancel(hctx)
	}
	defer cancel()

	if hctx.Err() != nil {
		// Nothing left to run the handler in: the Lambda timeout is not
		// larger than the margin, or the batch came in late.
		return h.stopped(hctx, job, budget, log, false)
	}
	log.Debug("running handler", "retries", job.Retries, "deadline", job.DeadlineTime().UTC().Format(time.RFC3339Nano), "budget", budget.String())

	// Buffered, so that an abandoned handler can still deliver its late
	// result and end instead of blocking forever.
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: newPanicError(p)}
			}
		}()
		out, err := h.call(hctx, job.Variables)
		done <- result{out: out, err: err}
	}()

	select {
	case res := <-done:
		return h.finish(hctx, job, res, budget, log)
	case <-hctx.Done():
	}
	// A handler that returned just as time ran out has its answer used.
	select {
	case res := <-done:
		return h.finish(hctx, job, res, budget, log)
	default:
	}
	go func() {
		// Only seen when the process outlives the invocation (an in-process
		// harness, or a Lambda environment reused for a later invocation).
		res := <-done
		log.Warn("handler returned after its job had been failed for running too long; its result is ignored", "error", res.err)
	}()
	return h.stopped(hctx, job, budget, log, true)
}

// stopAt is when the handler must have returned: the earlier of the Lambda
// deadline and the job's deadline, each less DeadlineMargin, so that the
// failure still reaches Zeebe while this activation is the job's. Past the
// job's deadline Zeebe hands the job out again, and a second run would start
// beside this one. The job's deadline is read on Config.Now's clock. The
// cause says which deadline it is; nil when there is none.
func (h *Handler) stopAt(ctx context.Context, job jobmsg.Job) (stop time.Time, cause error) {
	if d, ok := ctx.Deadline(); ok {
		stop, cause = d.Add(-h.cfg.DeadlineMargin), errTimedOut
	}
	if job.Deadline > 0 {
		j := time.Now().Add(job.DeadlineTime().Sub(h.cfg.Now()) - h.cfg.DeadlineMargin)
		if cause == nil || j.Before(stop) {
			stop, cause = j, errJobTimedOut
		}
	}
	return stop, cause
}

// finish is the outcome of a handler that returned. A plain error returned
// after its context ended is, in all likelihood, that context's error (a
// handler that honours ctx): the job is failed as timed out or interrupted,
// which says more than "context deadline exceeded". A value or a BPMN error
// returned at the last moment is still used.
func (h *Handler) finish(hctx context.Context, job jobmsg.Job, res result, budget time.Duration, log *slog.Logger) jobmsg.Outcome {
	var be *bpmnError
	var pe *panicError
	if res.err != nil && hctx.Err() != nil && !errors.As(res.err, &be) && !errors.As(res.err, &pe) && !errors.Is(res.err, ErrResultPending) {
		log.Debug("handler gave up when its context ended", "error", res.err)
		return h.stopped(hctx, job, budget, log, true)
	}
	return h.classify(job, res, log)
}

// stopped is the outcome of a handler whose context ended before it
// returned, or before it could start.
func (h *Handler) stopped(hctx context.Context, job jobmsg.Job, budget time.Duration, log *slog.Logger, started bool) jobmsg.Outcome {
	cause := context.Cause(hctx)
	if !errors.Is(cause, errTimedOut) && !errors.Is(cause, errJobTimedOut) {
		// The invocation itself was cancelled (a harness shutting down).
		log.Error("handler interrupted: the invocation was cancelled", "error", cause)
		return h.failure(job, fmt.Sprintf("handler interrupted: %v", cause))
	}
	margin := h.cfg.DeadlineMargin
	if errors.Is(cause, errJobTimedOut) {
		if !started {
			log.Error("no time left to run the handler before the job's deadline; failing the job", "margin", margin.String())
			return h.failure(job, fmt.Sprintf("handler timed out before it started: less than %s (%s) was left before the job's deadline; raise the job timeout (the task header %q or the poller's JOB_TIMEOUT)",
				margin, EnvDeadlineMargin, jobmsg.HeaderTimeout))
		}
		log.Error("handler still running close to the job's deadline; failing the job", "margin", margin.String(), "budget", budget.String())
		return h.failure(job, fmt.Sprintf("handler timed out: still running %s before the job's deadline, after which Zeebe hands the job out again (it had %s; raise the job timeout with the task header %q or the poller's JOB_TIMEOUT, or make the handler faster)",
			margin, budget.Round(10*time.Millisecond), jobmsg.HeaderTimeout))
	}
	if !started {
		log.Error("no time left to run the handler before the Lambda deadline; failing the job", "margin", margin.String())
		return h.failure(job, fmt.Sprintf("handler timed out before it started: less than %s (%s) was left before the Lambda deadline; raise the function's timeout or lower %s",
			margin, EnvDeadlineMargin, EnvDeadlineMargin))
	}
	log.Error("handler still running close to the Lambda deadline; failing the job", "margin", margin.String(), "budget", budget.String())
	return h.failure(job, fmt.Sprintf("handler timed out: still running %s before the Lambda deadline (it had %s; raise the function's timeout or make the handler faster)",
		margin, budget.Round(10*time.Millisecond)))
}

// classify turns a handler's return into an outcome.
func (h *Handler) classify(job jobmsg.Job, res result, log *slog.Logger) jobmsg.Outcome {
	var be *bpmnError
	var pe *panicError
	var ie *inputError
	switch {
	case errors.Is(res.err, ErrResultPending):
		return jobmsg.Outcome{Outcome: kindPending}
	case errors.As(res.err, &ie):
		// A modelling problem (the process holds variables of another type
		// than the function reads) that a retry would only repeat: incident.
		msg := ie.as("the job's variables", "do")
		log.Error("the job's variables do not fit the handler's input type; failing the job without retries", "error", msg)
		return incident(msg)
	case errors.As(res.err, &be):
		if be.code == "" {
			// A bug in the function that a retry cannot fix: incident at once.
			return incident(fmt.Sprintf("lambdakit.BPMNError needs a non-empty error code (message %q)", be.message))
		}
		vars, err := variables(be.vars, "")
		if err != nil {
			return incident(fmt.Sprintf("BPMN error %s: its variables: %v", be.code, err))
		}
		log.Info("handler threw a BPMN error", "errorCode", be.code, "errorMessage", be.message)
		return jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: be.code, ErrorMessage: capMessage(be.message), Variables: vars}
	case errors.As(res.err, &pe):
		log.Error("handler panicked", "panic", pe.Value(), "stack", pe.stack)
		return h.failure(job, res.err.Error())
	case res.err != nil:
		log.Warn("handler failed", "error", res.err)
		return h.failure(job, res.err.Error())
	}
	vars, err := variables(res.out, job.CustomHeaders[jobmsg.HeaderResultVariable])
	if err != nil {
		// A modelling problem a retry cannot fix: incident at once.
		log.Error("handler result cannot become the job's variables", "error", err)
		return incident(err.Error())
	}
	return jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: vars}
}

// failure is the outcome of a failed attempt: Zeebe retries the job with
// one retry less after the backoff, and raises an incident at zero.
func (h *Handler) failure(job jobmsg.Job, msg string) jobmsg.Outcome {
	return jobmsg.Outcome{
		Outcome:        jobmsg.Fail,
		Retries:        max(job.Retries-1, 0),
		RetryBackoffMs: h.cfg.RetryBackoff.Milliseconds(),
		ErrorMessage:   capMessage(msg),
	}
}

// incident fails the job with no retries left, for problems that another
// attempt would only repeat.
func incident(msg string) jobmsg.Outcome {
	return jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: capMessage(msg)}
}

// variables renders a handler's output as the job's variables: a JSON
// object, or any value wrapped under resultVariable when the model names one.
// A nil output sets no variables.
func variables(out any, resultVariable string) (json.RawMessage, error) {
	raw, err := jobmsg.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("the handler's result cannot be encoded as JSON: %w", err)
	}
	if resultVariable != "" {
		return jobmsg.Marshal(map[string]json.RawMessage{resultVariable: raw})
	}
	switch {
	case bytes.Equal(raw, []byte("null")):
		return json.RawMessage("{}"), nil
	case raw[0] == '{': // the encoder's output has no leading space
		return raw, nil
	default:
		return nil, fmt.Errorf("the handler returned %s, which is not a JSON object, so it cannot become process variables: set the task header %q to the name of the variable it should be stored under",
			preview(string(raw), 60), jobmsg.HeaderResultVariable)
	}
}

// capMessage limits an error message to MaxErrorMessageBytes, saying so.
func capMessage(s string) string {
	if len(s) <= MaxErrorMessageBytes {
		return s
	}
	kept := truncate(s, MaxErrorMessageBytes-64) // room for the note
	return fmt.Sprintf("%s... [%d more bytes cut by lambdakit]", kept, len(s)-len(kept))
}

// preview shortens s for a message, marking the cut.
func preview(s string, n int) string {
	if t := truncate(s, n); len(t) < len(s) {
		return t + "..."
	}
	return s
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
