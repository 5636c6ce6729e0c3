// Package returner hands the job messages that reach a function's
// dead-letter queue back to Zeebe at once.
//
// A function queue allows one receive, so SQS never retries a job. A job
// message lands in the DLQ when its function could not publish the outcome,
// when its invocation failed as a whole, or (on AWS) when a throttled
// delivery counted as its one receive. Left there, the job would wait out its
// whole Zeebe job timeout before being handed out again. The returner, an
// SQS-triggered Lambda on every function DLQ, answers such a job as its
// function would have: it publishes a fail outcome with the job's retries
// unchanged (the attempt never reached Zeebe, so it must not count), a short
// backoff and a message saying why, sealed with the job's token like any
// outcome. The fulfiller verifies and applies it, so the returner needs no
// access to Zeebe and no signing key, and Zeebe hands the job out again
// within seconds. Unchanged retries would loop for ever on a lasting fault:
// a configuration fault fails the job with retries 0 at once, and after
// MaxReturns hand-backs of one job each further dead-letter costs a retry
// (Handler.answer holds the rule).
//
// What it cannot decode stays in the DLQ, held invisible for hours so that it
// is not received again and again, where the DLQ's alarm shows it.
package returner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsbatch"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Redelivery decides when a record the returner could not finish comes back
// (*sqsretry.Queues is the real one).
type Redelivery interface {
	// RetryLater brings the record back after a short backoff.
	RetryLater(ctx context.Context, r events.SQSMessage) (time.Duration, error)
	// Hold keeps the record invisible for d.
	Hold(ctx context.Context, r events.SQSMessage, d time.Duration) error
}

// DefaultBackoff is how long Zeebe waits before handing a returned job out
// again: long enough not to spin on a fault that persists, short enough that
// the job runs again at once.
const DefaultBackoff = time.Second

// Handler returns dead-lettered job messages to Zeebe.
type Handler struct {
	// Publisher and OutcomeTopicARN say where the fail outcomes go: the
	// zeebe_jobs2complete topic.
	Publisher       jobmsg.Publisher
	OutcomeTopicARN string
	Log             *slog.Logger
	// Backoff is the retry backoff of a returned job (DefaultBackoff if zero).
	Backoff time.Duration
	// Redelivery, when set, brings a record whose outcome could not be
	// published back within seconds and holds an undecodable one for
	// sqsretry.MaxHold. Without it both come back after the DLQ's
	// visibility timeout.
	Redelivery Redelivery
	// Payloads, when set, reads job messages offloaded to S3.
	Payloads claimcheck.Receiver
	// Now is the clock that tells whether a job's deadline has passed (time.Now if nil).
	Now func() time.Time
	// Guard, when set, claims the job's activation before the hand-back is
	// published (package activation): when the function's own outcome, or
	// an earlier hand-back, has claimed it, nothing is returned. The
	// fulfiller then applies the hand-back as the claim's owner. It also
	// counts the job's hand-backs: without it they are not bounded.
	Guard Guard
	// MaxReturns is how many times a job is handed back with its retries
	// unchanged (DefaultMaxReturns if zero); each later dead-letter of the
	// job costs a retry, so that a fault that persists ends in an incident.
	MaxReturns int
}

// Guard is the part of *activation.Store the returner uses: the claim, and
// the count of a job's earlier hand-backs that bounds them.
type Guard interface {
	Claim(ctx context.Context, jobKey, act int64, owner string) (activation.Claim, error)
	Returns(ctx context.Context, jobKey, act int64) (int, error)
	NoteReturn(ctx context.Context, jobKey, act int64) error
}

// DefaultMaxReturns is how many times a job is handed back with its retries
// unchanged: enough for a passing fault (SNS or S3 unavailable for a moment),
// few enough that a lasting one becomes an incident within a minute.
const DefaultMaxReturns = 3

// Verdict is what happened to one record.
type Verdict int

// Verdicts, one per record.
const (
	Returned  Verdict = iota // a fail outcome with its retries unchanged published; deleted
	Stale                    // Zeebe no longer waits for this activation; deleted
	RetryLate                // the outcome could not be published; comes back after a backoff
	Kept                     // not a job message; stays in the DLQ
)

func (v Verdict) String() string {
	return [...]string{"returned", "stale", "retry", "kept"}[v]
}

// Handle is the Lambda handler for the function DLQs (an event source mapping
// with ReportBatchItemFailures on each).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsbatch.Process(ctx, ev, func(ctx context.Context, r events.SQSMessage) bool {
		v := h.Record(ctx, r)
		return v == Returned || v == Stale
	}), nil
}

// Record handles one record and says what became of it.
func (h *Handler) Record(ctx context.Context, r events.SQSMessage) Verdict {
	log := h.Log.With("messageId", r.MessageId, "eventSourceARN", r.EventSourceARN)
	in, err := claimcheck.ReadJob(ctx, r, h.Payloads)
	switch c := claimcheck.Classify(err); c {
	case claimcheck.Readable:
	case claimcheck.PayloadGone:
		// The lifecycle rule removed it: the job is long past its deadline.
		log.Info("the job's offloaded payload is gone: Zeebe has long handed the job out again, nothing to return", "error", err)
		return Stale
	case claimcheck.PayloadUnavailable:
		if h.Redelivery != nil {
			_, _ = h.Redelivery.RetryLater(ctx, r)
		}
		log.Warn("cannot read the job's offloaded payload now; the record comes back", "error", err)
		return RetryLate
	default:
		log = joblog.ForJob(log, in.JobKey, in.ProcessInstanceKey)
		reason := "not a job message"
		switch c {
		case claimcheck.UnsupportedVersion:
			reason = "a job message of a contract version this returner does not speak"
		case claimcheck.PointerRefused:
			reason = "a claim-check pointer the bridge never writes"
		}
		if h.Redelivery != nil {
			if herr := h.Redelivery.Hold(ctx, r, sqsretry.MaxHold); herr != nil {
				log.Warn("could not hold the record; it comes back after the DLQ's visibility timeout", "error", herr)
			}
		}
		log.Error(reason+"; it stays in the DLQ for a person to look at", "error", err.Error(), "deadLetterReason", reasonOf(r))
		return Kept
	}
	job := in.Message
	log = joblog.ForJob(log, job.Key, job.ProcessInstanceKey).With("identifier", job.Identifier(), "elementId", job.ElementID)
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if job.Expired(now()) {
		// Zeebe has timed the activation out and may have handed the job to
		// someone else: failing it now would fail that newer attempt.
		log.Info("job deadline has passed: Zeebe has already handed the job out again, nothing to return",
			"deadline", job.DeadlineTime().UTC().Format(time.RFC3339Nano))
		h.served(ctx, in.Payload, log)
		return Stale
	}

	why := reasonOf(r)
	if why == "" {
		why = "SQS moved it there after a receive that did not end in an outcome (a failed or throttled invocation)"
	}
	earlier, err := h.earlierReturns(ctx, job)
	if err != nil {
		if h.Redelivery != nil {
			_, _ = h.Redelivery.RetryLater(ctx, r)
		}
		log.Warn("cannot count the job's earlier hand-backs now; the record comes back", "error", err)
		return RetryLate
	}
	retries, backoff, msg := h.answer(job, sqsretry.CauseOf(r), why, earlier)
	o, err := jobtoken.Attach(job, jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: retries, RetryBackoffMs: backoff.Milliseconds(), ErrorMessage: msg})
	var out jobmsg.Message
	if err == nil {
		out, err = jobmsg.EncodeOutcome(o)
	}
	if err != nil {
		// Cannot happen with a job message that decoded; kept for a person.
		log.Error("cannot build the fail outcome; the record stays in the DLQ", "error", err)
		return Kept
	}
	if v, done := h.claim(ctx, r, o, log); done {
		if v == Stale {
			h.served(ctx, in.Payload, log)
		}
		return v
	}
	if retries == job.Retries && h.Guard != nil {
		// Noted once claimed and before it is published, so that a
		// hand-back that reaches Zeebe is always counted.
		if err := h.Guard.NoteReturn(ctx, job.Key, job.Deadline); err != nil {
			if h.Redelivery != nil {
				_, _ = h.Redelivery.RetryLater(ctx, r)
			}
			log.Warn("cannot note the hand-back now; the record comes back", "error", err)
			return RetryLate
		}
	}
	errs := h.Publisher.Publish(ctx, h.OutcomeTopicARN, []jobmsg.Message{out})
	if len(errs) == 1 && errs[0] == nil {
		log.Info("dead-lettered job handed back to Zeebe", "retries", retries, "backoff", backoff.String(), "reason", why,
			"cause", string(sqsretry.CauseOf(r)), "earlierReturns", earlier)
		h.served(ctx, in.Payload, log)
		return Returned
	}
	err = fmt.Errorf("publisher returned %d results for 1 message", len(errs))
	if len(errs) == 1 {
		err = errs[0]
	}
	if h.Redelivery != nil {
		if d, rerr := h.Redelivery.RetryLater(ctx, r); rerr == nil {
			log.Warn("could not publish the fail outcome; the record comes back after a backoff", "error", err, "backoff", d.String())
			return RetryLate
		}
	}
	log.Warn("could not publish the fail outcome; the record comes back after the DLQ's visibility timeout", "error", err)
	return RetryLate
}

// earlierReturns is how many earlier activations of the job were handed
// back with their retries unchanged (0 without the guard). An activation is
// named by the deadline the poller published the job with.
func (h *Handler) earlierReturns(ctx context.Context, job jobmsg.Job) (int, error) {
	if h.Guard == nil {
		return 0, nil
	}
	return h.Guard.Returns(ctx, job.Key, job.Deadline)
}

// answer is the rule for a dead-lettered job, in one place: the retries,
// backoff and error message of its fail outcome, given the cause lambdakit
// named and how many times the job was handed back before.
func (h *Handler) answer(job jobmsg.Job, cause sqsretry.Cause, why string, earlier int) (retries int32, backoff time.Duration, msg string) {
	backoff = h.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	limit := h.MaxReturns
	if limit <= 0 {
		limit = DefaultMaxReturns
	}
	switch {
	case cause == sqsretry.CauseConfiguration:
		// Every run would end here again, after the handler's side effects:
		// an incident tells a person to fix the deployment instead.
		return 0, 0, fmt.Sprintf("the job message for function %q reached its dead-letter queue because the function's deployment is wrong: %s; failed without retries: fix the function's configuration, then resolve the incident",
			job.Identifier(), why)
	case earlier >= limit:
		// The fault has outlasted the returns meant to ride out a passing
		// one: each further run costs a retry, so Zeebe raises an incident
		// instead of running the handler again and again.
		return max(job.Retries-1, 0), backoff, fmt.Sprintf("the job message for function %q reached its dead-letter queue again after %d hand-backs with retries unchanged (the most allowed): %s; failed with retries-1",
			job.Identifier(), earlier, why)
	}
	return job.Retries, backoff, fmt.Sprintf("the job message for function %q reached its dead-letter queue: %s; handed back to Zeebe with its retries unchanged (hand-back %d of %d)",
		job.Identifier(), why, earlier+1, limit)
}

// served deletes the job's offloaded payload, if it had one, once the
// record is done with; the bucket's lifecycle rule removes what is not.
func (h *Handler) served(ctx context.Context, p *claimcheck.Pointer, log *slog.Logger) {
	if p == nil {
		return
	}
	if err := h.Payloads.Delete(ctx, *p); err != nil {
		log.Warn("could not delete the job's offloaded payload; the bucket's lifecycle rule will", "error", err)
	}
}

// reasonOf is the reason lambdakit gave when it dead-lettered the record.
func reasonOf(r events.SQSMessage) string {
	if a, ok := r.MessageAttributes[sqsretry.AttrReason]; ok && a.StringValue != nil {
		return *a.StringValue
	}
	return ""
}

// claim takes the job's activation for the hand-back o. done is true when
// the record is finished with v: the activation has been answered (Stale), or
// the guard cannot tell now (RetryLate).
func (h *Handler) claim(ctx context.Context, r events.SQSMessage, o jobmsg.Outcome, log *slog.Logger) (v Verdict, done bool) {
	if h.Guard == nil {
		return 0, false
	}
	act, ok := activation.Of(o)
	if !ok {
		return 0, false // unsigned: the fulfiller cannot keep it to an activation either
	}
	cl, err := h.Guard.Claim(ctx, o.JobKey, act, activation.Owner(o))
	switch {
	case err != nil:
		if h.Redelivery != nil {
			_, _ = h.Redelivery.RetryLater(ctx, r)
		}
		log.Warn("cannot claim the job's activation now; the record comes back", "error", err)
		return RetryLate, true
	case cl.Verdict == activation.Answered:
		// The function's outcome reached SNS after all (lambdakit saw an
		// error), or this record was returned already: a hand-back now
		// would fail a later activation.
		log.Info("the job's activation has been answered: nothing to return",
			append([]any{"why", cl.Why, "activation", act}, emf.Attrs("returner", time.Now(), emf.N("ReturnsAlreadyAnswered", 1))...)...)
		return Stale, true
	}
	return 0, false
}
