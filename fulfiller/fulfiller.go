// Package fulfiller applies the outcomes that functions publish to
// zeebe_jobs2complete: it completes the job, fails it with the retries the
// outcome carries, or throws the BPMN error.
//
// It is an SQS-triggered Lambda with ReportBatchItemFailures. What it reports
// as failed SQS retries (that queue allows several receives, then a DLQ), so
// only errors that a retry can fix are reported: Zeebe being unavailable,
// overloaded or slow. An outcome for a job Zeebe no longer knows is a
// duplicate (SNS and SQS deliver at least once) and is acknowledged.
package fulfiller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"go.opentelemetry.io/otel/trace"

	"github.com/aws/aws-lambda-go/events"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/heartbeatlease"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsbatch"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Zeebe is the part of the Zeebe client the fulfiller uses.
type Zeebe interface {
	CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error
	FailJob(ctx context.Context, key int64, retries int32, msg string, backoff time.Duration) error
	ThrowError(ctx context.Context, key int64, code, msg string, vars json.RawMessage) error
	UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error
}

// Leases remembers, per activation of a job (its key and first deadline),
// until when the last heartbeat keeps it alive. It is how the fulfiller tells
// an asynchronous outcome for the activation that is still running from one
// that comes after Zeebe timed the job out and handed it out again: Zeebe
// itself would apply both. *heartbeatlease.Store keeps them in S3.
type Leases interface {
	// Get returns the end of the activation's lease; ok is false when no
	// heartbeat was ever applied to it.
	Get(ctx context.Context, jobKey, activation int64) (until time.Time, ok bool, err error)
	Put(ctx context.Context, jobKey, activation int64, until time.Time) error
	Delete(ctx context.Context, jobKey, activation int64) error
}

// Class is what to do with a record after trying to apply its outcome.
type Class int

// Classes of results.
const (
	Done      Class = iota // applied; delete the record
	Duplicate              // Zeebe no longer knows the job; delete the record
	Retry                  // transient; report it so SQS delivers it again
	Rejected               // permanent; report it so it reaches the DLQ for a human
)

func (c Class) String() string {
	return [...]string{"done", "duplicate", "retry", "rejected"}[c]
}

// Classify sorts an error from Zeebe by its gRPC status code (see
// zeebeclient.IsNotFound and IsTransient), never by its text.
//
// Refused credentials (UNAUTHENTICATED, PERMISSION_DENIED) are retried like
// an unavailable gateway: during a secret rotation they recover, and
// dead-lettering would send every outcome of the rotation to the DLQ.
//
// A permanent rejection (INVALID_ARGUMENT, FAILED_PRECONDITION, ...) is
// reported as failed rather than acknowledged: a
// retry cannot make it succeed, but the queue's maxReceiveCount bounds the
// retries and then the DLQ keeps the outcome, with its alarm, for someone to
// look at. Acknowledging it would lose a function's result with nothing but a
// log line to show for it.
func Classify(err error) Class {
	switch {
	case err == nil:
		return Done
	case zeebeclient.IsNotFound(err):
		return Duplicate
	case zeebeclient.IsTransient(err):
		return Retry
	default:
		return Rejected
	}
}

// Redelivery decides when a record comes back (see package redelivery).
type Redelivery interface {
	// RetryLater brings the record back after a short backoff.
	RetryLater(ctx context.Context, r events.SQSMessage) (time.Duration, error)
	// DeadLetter moves the record to its queue's DLQ at once, with the reason.
	DeadLetter(ctx context.Context, r events.SQSMessage, reason string, cause sqsretry.Cause) error
}

// Handler applies outcome records.
type Handler struct {
	Zeebe Zeebe
	Log   *slog.Logger
	// CallTimeout bounds each call to Zeebe.
	CallTimeout time.Duration
	// Redelivery, when set, brings a record that met an unavailable engine
	// back within seconds (not after the queue's visibility timeout) and moves
	// one that can never succeed to the DLQ at once (not after
	// maxReceiveCount receives). Without it, both are left to the queue.
	Redelivery Redelivery
	// Verifier, when set, checks every outcome's job token before anything
	// reaches Zeebe (package jobtoken): an outcome it rejects is never
	// applied. Nil applies every outcome (job tokens off).
	Verifier Verifier
	// Payloads, when set, resolves outcomes offloaded to S3 (a claim-check
	// pointer in the message) and deletes them once applied.
	Payloads claimcheck.Receiver
	// TracerProvider, when set, gives each outcome a span, child of the
	// function's span its message carries (package tracing).
	TracerProvider trace.TracerProvider
	// Leases, when set, records the heartbeats of asynchronous completion
	// (package completion), so that outcomes sent after the first deadline
	// of their activation are applied while heartbeats keep it alive. Nil
	// refuses heartbeats and treats such outcomes as late.
	Leases Leases
	// LeaseMargin is how long before the end of an activation's lease an
	// asynchronous outcome already counts as late: it covers the time the
	// command takes to reach Zeebe, which times the job out by its own clock.
	LeaseMargin time.Duration
	// Now is the clock of the lease checks; nil means time.Now.
	Now func() time.Time
	// Guard, when set, lets an outcome or a heartbeat reach Zeebe only for
	// the activation it answers (package activation): the first final
	// answer claims its activation, any other is acknowledged as a
	// duplicate. Nil applies every authentic outcome whose deadline has not
	// passed, whatever the job's current activation.
	Guard Guard
	// LargeAtOnce, when above 0, bounds how many outcomes offloaded to S3
	// (up to claimcheck.MaxPayloadBytes each) one invocation handles at
	// once; the batch's others wait for a slot. A 4 MiB outcome takes tens
	// of MiB while it is applied, so ten at once would not fit a small
	// function (LargeAtOnceFor).
	LargeAtOnce int
}

// LargeOutcomeMiB is the most heap one offloaded outcome of 4 MiB of
// variables takes while the fulfiller handles it (payload, decoded message,
// the seal's check and the Zeebe client's check of the variables, which
// decodes them whole), rounded up from BenchmarkLargeOutcomes; BaseMiB is
// what the function takes besides (runtime, AWS and gRPC clients).
const (
	LargeOutcomeMiB = 40
	BaseMiB         = 40
)

// LargeAtOnceFor is LargeAtOnce for a function of memoryMB
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE): as many large outcomes as fit beside
// BaseMiB, at least one, at most a batch of ten. 0 (memory unknown): no bound.
func LargeAtOnceFor(memoryMB int) int {
	if memoryMB <= 0 {
		return 0
	}
	return min(max(1, (memoryMB-BaseMiB)/LargeOutcomeMiB), 10)
}

// Guard is the per-activation rule of package activation
// (*activation.Store keeps it in S3).
type Guard interface {
	Claim(ctx context.Context, jobKey, act int64, owner string) (activation.Claim, error)
	Settle(ctx context.Context, jobKey, act int64, owner string) error
	Answered(ctx context.Context, jobKey, act int64) (bool, error)
}

// Verifier checks an outcome's job token. An error wrapping
// jobtoken.ErrInvalid means the outcome must never be applied; any other
// error (the keys could not be read) is worth a retry.
type Verifier interface {
	Verify(ctx context.Context, o jobmsg.Outcome) error
}

// DefaultLeaseMargin is the LeaseMargin of New.
const DefaultLeaseMargin = 2 * time.Second

// New returns a Handler.
func New(zb Zeebe, log *slog.Logger) *Handler {
	return &Handler{Zeebe: zb, Log: log, CallTimeout: 10 * time.Second, LeaseMargin: DefaultLeaseMargin}
}

// Handle is the Lambda handler for the zeebe_jobs2complete queue.
//
// Records are applied concurrently: each names an independent job, all share
// one Lambda deadline, and a batch should not wait on one slow command. The
// event source mapping's batch size bounds the concurrency. Two outcomes for
// the same activation in one batch are harmless: with the Guard one claims
// it and the other is a duplicate; without it Zeebe applies one and answers
// NOT_FOUND (or FAILED_PRECONDITION) to the other.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	// Lambda may freeze the process once the invocation returns.
	defer tracing.Flush(context.WithoutCancel(ctx), h.TracerProvider)
	var large chan struct{} // this invocation's slots for offloaded outcomes
	if h.LargeAtOnce > 0 {
		large = make(chan struct{}, h.LargeAtOnce)
	}
	return sqsbatch.Process(ctx, ev, func(ctx context.Context, r events.SQSMessage) bool {
		if large != nil && offloaded(r) {
			select {
			case large <- struct{}{}:
				defer func() { <-large }()
			case <-ctx.Done():
				return false // out of time waiting: SQS delivers it again
			}
		}
		c, why, log := h.record(ctx, r)
		switch {
		case c == Done || c == Duplicate:
			return true
		case h.Redelivery == nil:
			return false
		case c == Retry:
			d, err := h.Redelivery.RetryLater(ctx, r)
			if err != nil {
				log.Warn("could not shorten the record's visibility; it comes back after the queue's visibility timeout", "error", err)
			} else {
				log.Info("the outcome comes back after a backoff", "backoff", d.String(), "receiveCount", redeliveryCount(r))
			}
			return false
		default: // Rejected: a retry cannot help
			if err := h.Redelivery.DeadLetter(ctx, r, why, sqsretry.CauseUnknown); err != nil {
				log.Error("could not move the record to the DLQ; it gets there after maxReceiveCount receives", "error", err)
				return false
			}
			log.Error("record moved to the DLQ at once", "reason", why, "receiveCount", redeliveryCount(r))
			return true
		}
	}), nil
}

// offloaded: the record's message is a claim-check pointer to S3.
func offloaded(r events.SQSMessage) bool {
	body, _ := jobmsg.UnwrapRecord(r)
	_, ok := claimcheck.Parse(body)
	return ok
}

func redeliveryCount(r events.SQSMessage) string { return r.Attributes["ApproximateReceiveCount"] }

// appliedMetric names the per-kind count on the "outcome applied" line.
var appliedMetric = map[jobmsg.Kind]string{jobmsg.Complete: "JobsCompleted", jobmsg.Fail: "JobsFailed", jobmsg.Error: "ErrorsThrown", jobmsg.Heartbeat: "HeartbeatsApplied"}

// sentAt is when the record entered the queue (SQS's SentTimestamp).
func sentAt(r events.SQSMessage) (time.Time, bool) {
	ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// record applies one record; it returns its class, the reason when it can
// never succeed, and the logger that carries its keys.
func (h *Handler) record(ctx context.Context, r events.SQSMessage) (Class, string, *slog.Logger) {
	in, err := claimcheck.ReadOutcome(ctx, r, h.Payloads)
	ctx = tracing.ExtractRecord(ctx, in.Attributes, r.Attributes[tracing.AttrSQSTraceHeader])
	switch c := claimcheck.Classify(err); c {
	case claimcheck.Readable:
	case claimcheck.PayloadGone, claimcheck.PointerRefused:
		log := h.Log.With("messageId", r.MessageId)
		if c == claimcheck.PayloadGone {
			if c, jl := h.servedAlready(ctx, in.Body, log); c != Rejected {
				return c, "", jl
			}
		}
		log.Error("the outcome's offloaded payload is gone or refused; it goes to the DLQ", "error", err)
		return Rejected, fmt.Sprintf("offloaded outcome: %v", err), log
	case claimcheck.PayloadUnavailable:
		log := h.Log.With("messageId", r.MessageId)
		log.Warn("cannot read the outcome's offloaded payload now; SQS will deliver it again", "error", err)
		return Retry, "", log
	default:
		// Keys as far as the body gives them, so the line can still be found by job.
		reason := "not an outcome message"
		if c == claimcheck.UnsupportedVersion {
			reason = "outcome of a contract version this fulfiller does not speak"
		}
		jl := joblog.ForJob(h.Log, in.JobKey, in.ProcessInstanceKey).With("messageId", r.MessageId)
		jl.Error(reason+"; it goes to the DLQ", "error", err)
		return Rejected, fmt.Sprintf("%s: %v", reason, err), jl
	}
	o, payload := in.Message, in.Payload
	log := joblog.ForJob(h.Log, o.JobKey, o.ProcessInstanceKey).With("outcome", string(o.Outcome), "messageId", r.MessageId)
	ctx, span := tracing.Tracer(h.TracerProvider).Start(ctx, "fulfiller apply", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(tracing.OutcomeAttributes(o.JobKey, o.ProcessInstanceKey, string(o.Outcome))...))
	defer span.End()
	if h.Verifier != nil {
		err := h.Verifier.Verify(ctx, o)
		if o.Async && errors.Is(err, jobtoken.ErrExpired) {
			err = nil // authentic, past its first deadline: the lease decides below
		}
		switch {
		case errors.Is(err, jobtoken.ErrExpired):
			// Authentic but late: Zeebe has handed the job out again, so
			// applying it could touch a later activation. Late asynchronous
			// messages are treated the same way below.
			log.Info("outcome for an activation whose deadline has passed (Zeebe hands the job out again): a duplicate, acknowledged and not applied",
				append([]any{"check", err.Error()}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1), emf.N("OutcomesLate", 1))...)...)
			return Duplicate, "", log
		case errors.Is(err, jobtoken.ErrInvalid):
			log.Error("outcome not applied: its job token failed a check; it goes to the DLQ", "check", err.Error())
			return Rejected, fmt.Sprintf("job token: %v", err), log
		case err != nil:
			log.Warn("cannot check the outcome's job token now; SQS will deliver it again", "error", err)
			return Retry, "", log
		}
	}
	if o.Async {
		switch alive, err := h.alive(ctx, o); {
		case err != nil:
			log.Warn("cannot read the activation's lease now; SQS will deliver the message again", "error", err)
			return Retry, "", log
		case !alive:
			log.Info("asynchronous "+string(o.Outcome)+" for an activation that has ended (no heartbeat within the job's timeout, so Zeebe hands the job out again): a duplicate, acknowledged and not applied",
				append([]any{"activation", o.Deadline}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1), emf.N("OutcomesLate", 1))...)...)
			return Duplicate, "", log
		}
		if o.Outcome == jobmsg.Heartbeat && h.Leases == nil {
			log.Error("heartbeat refused: the fulfiller has no lease store (LEASE_BUCKET); it goes to the DLQ")
			return Rejected, "heartbeat, but the fulfiller has no lease store (" + heartbeatlease.EnvBucket + ")", log
		}
	}
	cl, c, log := h.claim(ctx, o, log)
	if c != Done {
		return c, "", log
	}
	cctx := ctx
	if h.CallTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, h.CallTimeout)
		defer cancel()
	}
	callStart := h.now()
	err = h.apply(cctx, o)
	c = Classify(err)
	if cl.resumed && (zeebeclient.IsInvalidState(err) || zeebeclient.IsNotFound(err)) {
		// Our own earlier attempt left the job failed, errored or gone:
		// it reached Zeebe, and this one is its duplicate.
		log.Info("outcome's earlier attempt reached Zeebe (the job is no longer activated): a duplicate, acknowledged and not applied again",
			append([]any{"error", err}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1), emf.N("OutcomesAlreadyAnswered", 1))...)...)
		h.settle(ctx, o, cl, log)
		return Duplicate, "", log
	}
	if o.Outcome == jobmsg.Heartbeat {
		if zeebeclient.IsInvalidState(err) {
			c = Duplicate // no longer activated: timed out or failed meanwhile
		}
		if c == Done {
			// Only after Zeebe took it: a lease that outlived Zeebe's
			// deadline would let a late outcome through.
			until := callStart.Add(time.Duration(o.TimeoutMs) * time.Millisecond)
			if perr := h.Leases.Put(ctx, o.JobKey, o.Deadline, until); perr != nil {
				log.Warn("heartbeat applied, but its lease could not be recorded; SQS will deliver it again", "error", perr)
				return Retry, "", log
			}
		}
	}
	switch c {
	case Done:
		metrics := []emf.Metric{emf.N(appliedMetric[o.Outcome], 1)}
		if o.Outcome != jobmsg.Heartbeat {
			metrics = append(metrics, emf.N("OutcomesApplied", 1))
		}
		if sent, ok := sentAt(r); ok {
			// From the function's publish (SNS hands it to SQS at once) to applied.
			metrics = append(metrics, emf.Ms("OutcomeToAppliedMs", time.Since(sent)))
		}
		if o.Outcome == jobmsg.Heartbeat {
			log.Info("heartbeat applied: the job's timeout was extended", append([]any{"timeoutMs", o.TimeoutMs}, emf.Attrs("fulfiller", time.Now(), metrics...)...)...)
		} else {
			log.Info("outcome applied", append([]any{"retries", o.Retries}, emf.Attrs("fulfiller", time.Now(), metrics...)...)...)
		}
	case Duplicate:
		log.Info("job not found in Zeebe: duplicate or stale outcome, acknowledged",
			append([]any{"error", err}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1))...)...)
	case Retry:
		msg := "Zeebe unavailable, overloaded or slow; SQS will deliver the outcome again"
		if zeebeclient.IsCredentials(err) {
			msg = "Zeebe refused the fulfiller's credentials (ZEEBE_CLIENT_ID, ZEEBE_CLIENT_SECRET or ZEEBE_CLIENT_SECRET_ARN, ZEEBE_TOKEN_AUDIENCE, ZEEBE_TOKEN_SCOPE); SQS will deliver the outcome again"
		}
		log.Warn(msg, append([]any{"error", err}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesRetried", 1))...)...)
	case Rejected:
		log.Error("Zeebe rejected the outcome; it goes to the DLQ",
			append([]any{"error", err}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesRejected", 1))...)...)
		return c, fmt.Sprintf("Zeebe rejected the %s outcome for job %d: %v", o.Outcome, o.JobKey, err), log
	}
	if c == Done || c == Duplicate {
		h.settle(ctx, o, cl, log)
	}
	if o.Async && o.Outcome != jobmsg.Heartbeat && h.Leases != nil && (c == Done || c == Duplicate) {
		// The job is answered; the bucket's lifecycle rule removes what is never deleted.
		if err := h.Leases.Delete(ctx, o.JobKey, o.Deadline); err != nil {
			log.Warn("could not delete the activation's lease", "error", err)
		}
	}
	if payload != nil && (c == Done || c == Duplicate) {
		// Served; the bucket's lifecycle rule removes what is never deleted.
		if err := h.Payloads.Delete(ctx, *payload); err != nil {
			log.Warn("could not delete the outcome's offloaded payload; the bucket's lifecycle rule will", "error", err)
		}
	}
	return c, "", log
}

func (h *Handler) apply(ctx context.Context, o jobmsg.Outcome) error {
	switch o.Outcome {
	case jobmsg.Complete:
		return h.Zeebe.CompleteJob(ctx, o.JobKey, o.Variables)
	case jobmsg.Fail:
		// The retries come from the outcome as they are: lambdakit already
		// counted this attempt. Recomputing or defaulting them here is how
		// retry storms start.
		return h.Zeebe.FailJob(ctx, o.JobKey, o.Retries, o.ErrorMessage, time.Duration(o.RetryBackoffMs)*time.Millisecond)
	case jobmsg.Error:
		return h.Zeebe.ThrowError(ctx, o.JobKey, o.ErrorCode, o.ErrorMessage, o.Variables)
	case jobmsg.Heartbeat:
		return h.Zeebe.UpdateJobTimeout(ctx, o.JobKey, time.Duration(o.TimeoutMs)*time.Millisecond)
	default:
		return fmt.Errorf("unknown outcome %q", o.Outcome)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// alive reports whether the activation an asynchronous message answers is
// still the job's current one: its first deadline, or the end of the lease
// its last heartbeat set, is more than LeaseMargin away.
func (h *Handler) alive(ctx context.Context, o jobmsg.Outcome) (bool, error) {
	now := h.now().Add(h.LeaseMargin)
	if now.Before(time.UnixMilli(o.Deadline)) {
		return true, nil
	}
	if h.Leases == nil {
		return false, nil
	}
	until, ok, err := h.Leases.Get(ctx, o.JobKey, o.Deadline)
	if err != nil {
		return false, fmt.Errorf("read the lease of job %d: %w", o.JobKey, err)
	}
	return ok && now.Before(until), nil
}

// claimed is what claim took: an activation, or nothing (no guard, a
// heartbeat, an outcome that names no activation).
type claimed struct {
	act     int64
	owner   string
	resumed bool
}

// claim asks the guard whether the outcome may reach Zeebe. It returns Done
// when it may, or the class to return: Duplicate for an activation another
// answer has claimed (or this one was applied to), Retry when the guard
// cannot tell now.
func (h *Handler) claim(ctx context.Context, o jobmsg.Outcome, log *slog.Logger) (claimed, Class, *slog.Logger) {
	if h.Guard == nil {
		return claimed{}, Done, log
	}
	act, ok := activation.Of(o)
	if !ok {
		return claimed{}, Done, log // unsigned: no activation to keep it to
	}
	log = log.With("activation", act)
	if o.Outcome == jobmsg.Heartbeat {
		answered, err := h.Guard.Answered(ctx, o.JobKey, act)
		switch {
		case err != nil:
			log.Warn("cannot read the activation's claim now; SQS will deliver the heartbeat again", "error", err)
			return claimed{}, Retry, log
		case answered:
			// The job may be running again: extending its timeout would
			// keep a later activation alive on the word of this one.
			log.Info("heartbeat for an activation that has been answered: a duplicate, acknowledged and not applied",
				emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1), emf.N("OutcomesAlreadyAnswered", 1))...)
			return claimed{}, Duplicate, log
		}
		return claimed{}, Done, log
	}
	owner := activation.Owner(o)
	cl, err := h.Guard.Claim(ctx, o.JobKey, act, owner)
	switch {
	case err != nil:
		log.Warn("cannot claim the activation now; SQS will deliver the outcome again", "error", err)
		return claimed{}, Retry, log
	case cl.Verdict == activation.Answered:
		log.Info("outcome for an activation that has been answered: a duplicate, acknowledged and not applied",
			append([]any{"why", cl.Why}, emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1), emf.N("OutcomesAlreadyAnswered", 1))...)...)
		return claimed{}, Duplicate, log
	case cl.Verdict == activation.Resume:
		log.Info("outcome claimed its activation in an earlier attempt that did not finish, and the job has not been activated again since: sending it again")
	}
	return claimed{act: act, owner: owner, resumed: cl.Verdict == activation.Resume}, Done, log
}

// settle marks the claim as applied. Failing that is only logged: the
// outcome is applied, and a later delivery of it still finds the claim and
// the job's activation record.
func (h *Handler) settle(ctx context.Context, o jobmsg.Outcome, c claimed, log *slog.Logger) {
	if c.owner == "" {
		return
	}
	if err := h.Guard.Settle(ctx, o.JobKey, c.act, c.owner); err != nil {
		log.Warn("outcome applied, but its claim could not be marked so; a later delivery of it is checked against the job's activations", "error", err)
	}
}

// servedAlready tells an offloaded outcome delivered again, whose payload the
// answer that claimed its activation has deleted after use (Duplicate), from
// a payload lost otherwise (Rejected): the pointer's key names the job and
// the activation. Retry when the claim cannot be read now.
func (h *Handler) servedAlready(ctx context.Context, body []byte, log *slog.Logger) (Class, *slog.Logger) {
	p, ok := claimcheck.Parse(body)
	if h.Guard == nil || !ok {
		return Rejected, log
	}
	prefix, _, jobKey, act, ok := claimcheck.ParseKey(p.Key)
	if !ok || prefix != claimcheck.PrefixOutcomes {
		return Rejected, log
	}
	jl := log.With(joblog.KeyJob, jobKey, "activation", act)
	answered, err := h.Guard.Answered(ctx, jobKey, act)
	switch {
	case err != nil:
		jl.Warn("the outcome's offloaded payload is gone and its activation's claim cannot be read now; SQS will deliver it again", "error", err)
		return Retry, jl
	case !answered:
		return Rejected, log
	}
	jl.Info("offloaded outcome whose payload is gone, for an activation that has been answered: a duplicate, acknowledged and not applied",
		emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesDuplicate", 1), emf.N("OutcomesAlreadyAnswered", 1))...)
	return Duplicate, jl
}
