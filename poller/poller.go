// Package poller activates the jobs of type "lambda" in Zeebe and publishes
// each one to the zeebe_jobs SNS topic, where a filter on the message
// attribute lambdaIdentifier routes it to its function's queue.
//
// Run is shared by the scheduled Lambda (cmd/zeebe-poller) and the long-lived
// process (cmd/zeebe-poller-daemon). With a context deadline, as in Lambda, it stops
// activating early enough to publish every job it holds before it returns;
// without one it runs until cancelled.
package poller

import (
	"maps"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Zeebe is the part of the Zeebe client the poller uses.
type Zeebe interface {
	// ActivateJobs long-polls for at most max jobs for up to requestTimeout.
	// It may return jobs together with an error when the stream broke after
	// handing some out: those jobs are activated and the caller owns them.
	ActivateJobs(ctx context.Context, jobType, worker string, max int32, timeout, requestTimeout time.Duration) ([]jobmsg.Job, error)
	FailJob(ctx context.Context, key int64, retries int32, msg string, backoff time.Duration) error
	UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error
}

// Router tells whether a published job would reach a function: SNS drops a
// message that matches no subscription's filter, without a word.
type Router interface {
	Routable(ctx context.Context, identifier string) (bool, error)
}

// Option adds an optional collaborator to Run.
type Option func(*collaborators)

type collaborators struct {
	router   Router
	signer   Signer
	payloads claimcheck.Offloader
	tracer   trace.TracerProvider
	recorder Recorder
}

// Recorder notes each job's latest activation before the job is published
// (*activation.Store), so that the fulfiller never sends again an answer to
// an earlier activation whose first attempt may have reached Zeebe.
type Recorder interface {
	Record(ctx context.Context, jobKey, activation int64) error
}

// WithActivations makes Run record every job's activation before publishing it.
func WithActivations(r Recorder) Option { return func(c *collaborators) { c.recorder = r } }

// WithTracing starts a span for each job published, and passes its context
// on in the message attributes (package tracing).
func WithTracing(p trace.TracerProvider) Option { return func(c *collaborators) { c.tracer = p } }

// WithPayloads makes Run offload job messages above the store's threshold
// (S3, by the claim-check pattern) instead of failing those above SNS's limit.
func WithPayloads(o claimcheck.Offloader) Option { return func(c *collaborators) { c.payloads = o } }

// Signer signs a job message (package jobtoken), so that the fulfiller
// applies only outcomes of jobs the poller handed out.
type Signer interface {
	Sign(ctx context.Context, j *jobmsg.Job) error
}

// WithSigner makes Run sign every job it publishes.
func WithSigner(s Signer) Option { return func(c *collaborators) { c.signer = s } }

// WithRouter makes Run fail a job whose identifier no subscription routes
// (retries 0: an incident naming the identifier) instead of publishing it
// into nothing.
func WithRouter(r Router) Option { return func(c *collaborators) { c.router = r } }

// Config is the poller's configuration.
type Config struct {
	TopicARN      string        // ZEEBE_JOBS_TOPIC_ARN: the zeebe_jobs topic
	JobType       string        // JOB_TYPE
	JobTimeout    time.Duration // JOB_TIMEOUT: how long a function has before Zeebe hands the job out again
	MaxJobsActive int32         // MAX_JOBS_ACTIVE: jobs per activation
	Worker        string        // WORKER_NAME
	LongPoll      time.Duration // LONG_POLL: longest single activation request
	// SAFETY_MARGIN: stop activating this long before the deadline, to
	// publish what the last poll returned; without a deadline, the time a
	// hand-off may take, also after a shutdown signal.
	SafetyMargin   time.Duration
	PublishBackoff time.Duration // FAIL_BACKOFF: retry backoff of a job whose publication failed
}

// Defaults.
const (
	DefaultJobType        = "lambda"
	DefaultJobTimeout     = 5 * time.Minute
	DefaultMaxJobsActive  = 32
	DefaultLongPoll       = 20 * time.Second
	DefaultSafetyMargin   = 30 * time.Second
	DefaultPublishBackoff = 5 * time.Second
)

// ConfigFromEnv reads the configuration; a missing or invalid variable is
// reported by name.
func ConfigFromEnv(getenv envconfig.Getenv) (Config, error) {
	var c Config
	var err error
	if c.TopicARN, err = getenv.Required("ZEEBE_JOBS_TOPIC_ARN", "the ARN of the zeebe_jobs SNS topic"); err != nil {
		return Config{}, err
	}
	c.JobType = getenv.String("JOB_TYPE", DefaultJobType)
	host, _ := os.Hostname()
	c.Worker = getenv.String("WORKER_NAME", getenv.String("AWS_LAMBDA_FUNCTION_NAME", "zeebe-lambda-bridge-poller@"+host))
	var errs []error
	c.JobTimeout, err = getenv.Duration("JOB_TIMEOUT", DefaultJobTimeout)
	errs = append(errs, err)
	c.LongPoll, err = getenv.Duration("LONG_POLL", DefaultLongPoll)
	errs = append(errs, err)
	c.SafetyMargin, err = getenv.Duration("SAFETY_MARGIN", DefaultSafetyMargin)
	errs = append(errs, err)
	c.PublishBackoff, err = getenv.Duration("FAIL_BACKOFF", DefaultPublishBackoff)
	errs = append(errs, err)
	n, err := getenv.Int("MAX_JOBS_ACTIVE", DefaultMaxJobsActive)
	if err == nil && n > math.MaxInt32 {
		err = fmt.Errorf("%w MAX_JOBS_ACTIVE=%d: want at most %d", envconfig.ErrInvalid, n, math.MaxInt32)
	}
	errs = append(errs, err)
	c.MaxJobsActive = int32(min(n, math.MaxInt32))
	if err := oneLine(errs); err != nil {
		return Config{}, err
	}
	return c, nil
}

// oneLine joins the non-nil errors into one error whose text is a single
// line (errors.Join would put each on a line of its own), keeping them all
// for errors.Is.
func oneLine(errs []error) error {
	var set []error
	var texts []string
	for _, err := range errs {
		if err != nil {
			set = append(set, err)
			texts = append(texts, err.Error())
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return &joined{errs: set, text: strings.Join(texts, "; ")}
}

type joined struct {
	errs []error
	text string
}

func (j *joined) Error() string   { return j.text }
func (j *joined) Unwrap() []error { return j.errs }

// Stats counts what one Run did.
type Stats struct {
	Activated int
	Published int
	// PublishFailed jobs were not published because of a transient error (SNS,
	// or Zeebe refusing the timeout update for now) and were handed back to
	// Zeebe with their retries unchanged and FAIL_BACKOFF.
	PublishFailed int
	// Rejected jobs were failed with retries 0, so that Zeebe raises an
	// incident: no identifier header, an unusable timeout header, or a job too
	// large for SNS. A retry could not fix any of them.
	Rejected int
	// Gone jobs were no longer known to Zeebe when the poller acted on them
	// (timed out or cancelled meanwhile); nothing was published.
	Gone int
}

// Error classes.
var (
	// ErrNoIdentifier classifies a job whose element lacks the identifier header.
	ErrNoIdentifier = errors.New(`no "identifier" task header`)
	// ErrUnroutable classifies a job whose identifier matches no subscription
	// of the topic: no function is deployed for it.
	ErrUnroutable = errors.New("no function subscribed for the identifier")
	// ErrActivate: no activation succeeded during a run bounded by a deadline,
	// so the invocation reports an error (Zeebe unreachable, bad credentials).
	ErrActivate = errors.New("could not activate jobs")
)

// Backoff between failed activations: it doubles from the first to the last,
// and resets after a successful one.
const (
	activateBackoffMin = time.Second
	activateBackoffMax = 30 * time.Second
)

// minPoll is the shortest long poll worth a round trip; with less time before
// the stop point the run ends.
const minPoll = time.Second

// Run activates and publishes jobs until the stop point: ctx's deadline less
// the safety margin, or ctx's cancellation when it has no deadline. Every job
// it activates is published, or handed back to Zeebe, before it returns.
//
// With a deadline (the Lambda) it returns an error wrapping ErrActivate when
// no activation succeeded at all, so that a poller that cannot reach Zeebe
// shows up as failed invocations. Without one (the long-lived process)
// activation errors are retried with backoff until ctx is cancelled.
func Run(ctx context.Context, cfg Config, zb Zeebe, pub jobmsg.Publisher, log *slog.Logger, opts ...Option) (Stats, error) {
	var co collaborators
	for _, o := range opts {
		o(&co)
	}
	// Activation runs here, publishing in publishAll's goroutines.
	jobs := make(chan jobmsg.Job, 4*max(int(cfg.MaxJobsActive), 1))
	published := make(chan Stats, 1)
	go func() { published <- publishAll(ctx, cfg, zb, pub, co, log, jobs) }()
	var lastErr error
	activated := false
	backoff := activateBackoffMin
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < cfg.SafetyMargin+minPoll {
		log.Warn("no time to poll: the invocation's time left is within SAFETY_MARGIN; give the function a longer timeout or lower SAFETY_MARGIN",
			"timeLeft", time.Until(dl).Round(time.Millisecond).String(), "safetyMargin", cfg.SafetyMargin.String())
	}
	for {
		wait, ok := nextPoll(ctx, cfg, time.Now())
		if !ok {
			break
		}
		got, err := zb.ActivateJobs(ctx, cfg.JobType, cfg.Worker, cfg.MaxJobsActive, cfg.JobTimeout, wait)
		for _, j := range got {
			// Publish even when err is set: these jobs are activated and ours.
			jobs <- j
		}
		if err == nil {
			activated = true
			backoff = activateBackoffMin
			continue
		}
		if ctx.Err() != nil {
			break
		}
		lastErr = err
		pause := backoff
		if dl, ok := ctx.Deadline(); ok {
			// Never sleep past the stop point: the run must end before its deadline.
			pause = min(pause, time.Until(dl.Add(-cfg.SafetyMargin)))
		}
		log.Warn(activateFailed(err), "jobType", cfg.JobType, "error", err, "retryIn", pause.String())
		sleep(ctx, pause)
		backoff = min(2*backoff, activateBackoffMax)
	}
	close(jobs)
	st := <-published
	log.Info("poller run finished", "activated", st.Activated, "published", st.Published,
		"publishFailed", st.PublishFailed, "rejected", st.Rejected, "gone", st.Gone)
	if _, hasDeadline := ctx.Deadline(); hasDeadline && !activated && lastErr != nil {
		return st, fmt.Errorf("%w of type %q: %w", ErrActivate, cfg.JobType, lastErr)
	}
	return st, nil
}

// activateFailed is the log line of a failed activation; refused
// credentials say so, so that an operator looks at them and not the network.
func activateFailed(err error) string {
	if zeebeclient.IsCredentials(err) {
		return "activating jobs failed: Zeebe refused the poller's credentials (ZEEBE_CLIENT_ID, ZEEBE_CLIENT_SECRET or ZEEBE_CLIENT_SECRET_ARN, ZEEBE_TOKEN_AUDIENCE, ZEEBE_TOKEN_SCOPE); retrying"
	}
	return "activating jobs failed; retrying"
}

// nextPoll returns the long-poll timeout for the next activation, or false
// when the poller must stop activating. The stop point leaves the safety
// margin before ctx's deadline for publishing what the last poll returns.
func nextPoll(ctx context.Context, cfg Config, now time.Time) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return cfg.LongPoll, true
	}
	left := deadline.Sub(now) - cfg.SafetyMargin
	if left < minPoll {
		return 0, false
	}
	return min(cfg.LongPoll, left), true
}

// handOff publishes the jobs and hands back those it cannot publish.
//
// It does not stop when ctx is cancelled: a job we hold must reach SNS or go
// back to Zeebe, or it sits unseen until its timeout expires. It is bounded
// all the same, by ctx's deadline when there is one (Lambda freezes the
// process there anyway), else by the safety margin. Publishing gets three
// quarters of that time so that handing back failures still has some.
func handOff(ctx context.Context, cfg Config, zb Zeebe, pub jobmsg.Publisher, co collaborators, log *slog.Logger, jobs []jobmsg.Job, st *Stats) {
	base := context.WithoutCancel(ctx)
	var hctx context.Context
	var cancel context.CancelFunc
	if dl, ok := ctx.Deadline(); ok {
		hctx, cancel = context.WithDeadline(base, dl)
	} else {
		hctx, cancel = context.WithTimeout(base, cfg.SafetyMargin)
	}
	defer cancel()
	budget := time.Duration(0)
	if dl, ok := hctx.Deadline(); ok {
		budget = time.Until(dl)
	}
	pctx, pcancel := context.WithTimeout(hctx, budget*3/4)
	defer pcancel()

	var msgs []jobmsg.Message
	var ready []jobmsg.Job
	for _, j := range jobs {
		jl := joblog.ForJob(log, j.Key, j.ProcessInstanceKey).With("elementId", j.ElementID)
		m, v, err := prepare(pctx, cfg, zb, co, jl, j)
		switch v {
		case publishIt:
			msgs = append(msgs, m)
			ready = append(ready, j)
		case rejectIt:
			st.Rejected++
			jl.Error("job rejected; failing it without retries so that Zeebe raises an incident",
				append([]any{"error", err}, emf.Attrs("poller", time.Now(), emf.N("JobsRejected", 1))...)...)
			if ferr := zb.FailJob(hctx, j.Key, 0, err.Error(), 0); ferr != nil {
				jl.Error("could not fail the rejected job; it returns when its timeout expires", "error", ferr)
			}
		case handBackIt:
			st.PublishFailed++
			handBack(hctx, cfg, zb, jl, j, err)
		case goneIt:
			st.Gone++
			jl.Info("job no longer known to Zeebe (timed out or cancelled meanwhile); not publishing it", "error", err)
		}
	}
	if len(msgs) == 0 {
		return
	}
	record(pctx, co.recorder, log, ready)
	tracer := tracing.Tracer(co.tracer)
	spans := make([]trace.Span, len(ready))
	for i, j := range ready {
		sctx, span := tracer.Start(pctx, "poller publish", trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(tracing.JobAttributes(j.Key, j.ProcessInstanceKey, j.ElementID, j.Identifier())...))
		msgs[i].Attributes = tracing.Inject(sctx, maps.Clone(msgs[i].Attributes))
		spans[i] = span
	}
	began := time.Now()
	errs := pub.Publish(pctx, cfg.TopicARN, msgs)
	took := time.Since(began)
	for i, j := range ready {
		jl := joblog.ForJob(log, j.Key, j.ProcessInstanceKey).With("elementId", j.ElementID)
		if i < len(errs) && errs[i] != nil {
			spans[i].SetStatus(otelcodes.Error, errs[i].Error())
		}
		spans[i].End()
		if i < len(errs) && errs[i] == nil {
			st.Published++
			jl.Info("job published", append([]any{"lambdaIdentifier", j.Identifier(), "retries", j.Retries},
				emf.Attrs("poller", time.Now(), emf.N("JobsPublished", 1), emf.Ms("PublishMs", took))...)...)
			continue
		}
		err := errors.New("publisher returned no result for the job")
		if i < len(errs) {
			err = errs[i]
		}
		st.PublishFailed++
		handBack(hctx, cfg, zb, jl, j, fmt.Errorf("could not publish the job to SNS: %w", err))
	}
}

// handBack fails the job with its retries unchanged and the short
// FAIL_BACKOFF: the function did not fail, so the attempt must not count, and
// the job should not wait for its whole timeout either.
func handBack(ctx context.Context, cfg Config, zb Zeebe, jl *slog.Logger, j jobmsg.Job, cause error) {
	jl.Warn("handing the job back to Zeebe with retries unchanged", append([]any{"error", cause, "retries", j.Retries, "backoff", cfg.PublishBackoff.String()},
		emf.Attrs("poller", time.Now(), emf.N("JobsHandedBack", 1))...)...)
	msg := fmt.Sprintf("zeebe-lambda-bridge poller: %v", cause)
	if err := zb.FailJob(ctx, j.Key, j.Retries, msg, cfg.PublishBackoff); err != nil {
		jl.Error("could not hand the job back; it returns when its timeout expires", "error", err)
	}
}

// verdict is what to do with an activated job.
type verdict int

const (
	publishIt  verdict = iota
	rejectIt           // fail with retries 0: a modelling or payload error
	handBackIt         // fail with retries unchanged: a transient error of ours
	goneIt             // Zeebe no longer knows the job: nothing to do
)

// prepare applies the job's timeout header and encodes it.
func prepare(ctx context.Context, cfg Config, zb Zeebe, co collaborators, jl *slog.Logger, j jobmsg.Job) (jobmsg.Message, verdict, error) {
	if j.Identifier() == "" {
		return jobmsg.Message{}, rejectIt, fmt.Errorf("%w: task %q (element %s of process %s) must name its Lambda function: add <zeebe:header key=%q value=\"<function name>\"/> to the service task",
			ErrNoIdentifier, j.ElementID, j.ElementID, j.BPMNProcessID, jobmsg.HeaderIdentifier)
	}
	if co.router != nil {
		ok, err := co.router.Routable(ctx, j.Identifier())
		if err != nil {
			// Without the listing the job is published as before the check existed.
			jl.Warn("could not check that a function is subscribed for the job; publishing it anyway", "lambdaIdentifier", j.Identifier(), "error", err)
		}
		if !ok {
			return jobmsg.Message{}, rejectIt, fmt.Errorf("%w: no subscription of %s routes %s=%q (task %q of process %s): deploy the function %q with the zeebe-lambda Terraform module, which subscribes its queue with that filter, then resolve the incident",
				ErrUnroutable, cfg.TopicARN, jobmsg.AttrLambdaIdentifier, j.Identifier(), j.ElementID, j.BPMNProcessID, j.Identifier())
		}
	}
	if raw := j.CustomHeaders[jobmsg.HeaderTimeout]; raw != "" {
		d, err := jobmsg.ParseISODuration(raw)
		if err != nil {
			return jobmsg.Message{}, rejectIt, fmt.Errorf("task %q: task header %q: %w", j.ElementID, jobmsg.HeaderTimeout, err)
		}
		// Taken before the call: Zeebe counts from when it processes the
		// command, a little later, so this deadline errs on the early side,
		// which is the safe side for lambdakit's check of expired jobs.
		deadline := time.Now().Add(d)
		if err := zb.UpdateJobTimeout(ctx, j.Key, d); err != nil {
			err = fmt.Errorf("task %q: apply task header %s=%s: %w", j.ElementID, jobmsg.HeaderTimeout, raw, err)
			switch {
			case zeebeclient.IsNotFound(err):
				return jobmsg.Message{}, goneIt, err
			case zeebeclient.IsTransient(err):
				return jobmsg.Message{}, handBackIt, err
			default:
				return jobmsg.Message{}, rejectIt, err
			}
		}
		j.Deadline = deadline.UnixMilli()
	}
	if co.signer != nil {
		// After the timeout header: the token signs the deadline lambdakit sees.
		if err := co.signer.Sign(ctx, &j); err != nil {
			return jobmsg.Message{}, handBackIt, fmt.Errorf("sign the job message: %w", err)
		}
	}
	m, offloaded, err := claimcheck.EncodeJob(ctx, co.payloads, j)
	if errors.Is(err, claimcheck.ErrOffload) {
		return jobmsg.Message{}, handBackIt, err
	}
	if offloaded {
		jl.Info("job message offloaded to S3", "bytes", m.Attributes[claimcheck.AttrSize])
	}
	switch {
	case errors.Is(err, jobmsg.ErrTooLarge):
		return jobmsg.Message{}, rejectIt, fmt.Errorf("task %q: %w; pass less data to the task (input mappings) or store it elsewhere and pass a reference", j.ElementID, err)
	case err != nil:
		return jobmsg.Message{}, rejectIt, fmt.Errorf("task %q: %w", j.ElementID, err)
	}
	return m, publishIt, nil
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// record notes the jobs' activations, concurrently: each is one S3 put. A
// job whose record fails is published all the same; only a resumed outcome
// of its previous activation could then reach it (docs/design.md).
func record(ctx context.Context, r Recorder, log *slog.Logger, jobs []jobmsg.Job) {
	if r == nil {
		return
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			if err := r.Record(ctx, j.Key, j.Deadline); err != nil {
				joblog.ForJob(log, j.Key, j.ProcessInstanceKey).Warn("could not record the job's activation; publishing it all the same",
					append([]any{"error", err}, emf.Attrs("poller", time.Now(), emf.N("ActivationsUnrecorded", 1))...)...)
			}
		})
	}
	wg.Wait()
}
