// Package poller activates the jobs of type "lambda" in Zeebe and publishes
// each one to the zeebe_jobs SNS topic, where a filter on the message
// attribute lambdaIdentifier routes it to its function's queue.
//
// Run is shared by the scheduled Lambda (cmd/poller-lambda) and the long-lived
// process (cmd/poller). With a context deadline, as in Lambda, it stops
// activating early enough to publish every job it holds before it returns;
// without one it runs until cancelled.
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envcfg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Zeebe is the part of the Zeebe client the poller uses.
type Zeebe interface {
	ActivateJobs(ctx context.Context, jobType, worker string, max int32, timeout, requestTimeout time.Duration) ([]jobmsg.Job, error)
	FailJob(ctx context.Context, key int64, retries int32, msg string, backoff time.Duration) error
	UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error
}

// Publisher publishes messages to an SNS topic, one error per message.
type Publisher interface {
	Publish(ctx context.Context, topicARN string, msgs []jobmsg.Message) []error
}

// Config is the poller's configuration.
type Config struct {
	TopicARN       string        // ZEEBE_JOBS_TOPIC_ARN: the zeebe_jobs topic
	JobType        string        // JOB_TYPE
	JobTimeout     time.Duration // JOB_TIMEOUT: how long a function has before Zeebe hands the job out again
	MaxJobsActive  int32         // MAX_JOBS_ACTIVE: jobs per activation
	Worker         string        // WORKER_NAME
	LongPoll       time.Duration // LONG_POLL: longest single activation request
	SafetyMargin   time.Duration // SAFETY_MARGIN: stop activating this long before the deadline
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
func ConfigFromEnv(getenv envcfg.Getenv) (Config, error) {
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
	errs = append(errs, err)
	c.MaxJobsActive = int32(n)
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Stats counts what one Run did.
type Stats struct {
	Activated     int
	Published     int
	PublishFailed int // failed back to Zeebe with retries unchanged
	Rejected      int // failed with retries 0: no identifier, bad timeout header, too large
}

// ErrNoIdentifier classifies a job whose element lacks the identifier header.
var ErrNoIdentifier = errors.New(`no "identifier" task header`)

// Run activates and publishes jobs until the stop point: ctx's deadline less
// the safety margin, or ctx's cancellation when it has no deadline.
func Run(ctx context.Context, cfg Config, zb Zeebe, pub Publisher, log *slog.Logger) (Stats, error) {
	var st Stats
	// Publishing and failing jobs happen on a context that outlives the stop
	// point: a job we hold must reach SNS or go back to Zeebe.
	workCtx := context.WithoutCancel(ctx)
	for {
		wait, ok := nextPoll(ctx, cfg, time.Now())
		if !ok {
			break
		}
		jobs, err := zb.ActivateJobs(ctx, cfg.JobType, cfg.Worker, cfg.MaxJobsActive, cfg.JobTimeout, wait)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("activate jobs failed; retrying", "error", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(jobs) == 0 {
			continue
		}
		st.Activated += len(jobs)
		publish(workCtx, cfg, zb, pub, log, jobs, &st)
	}
	log.Info("poller run finished", "activated", st.Activated, "published", st.Published,
		"publishFailed", st.PublishFailed, "rejected", st.Rejected)
	return st, nil
}

// nextPoll returns the long-poll timeout for the next activation, or false
// when the poller must stop activating.
func nextPoll(ctx context.Context, cfg Config, now time.Time) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return cfg.LongPoll, true
	}
	left := deadline.Sub(now) - cfg.SafetyMargin
	// A poll shorter than a second is not worth a round trip.
	if left < time.Second {
		return 0, false
	}
	return min(cfg.LongPoll, left), true
}

func publish(ctx context.Context, cfg Config, zb Zeebe, pub Publisher, log *slog.Logger, jobs []jobmsg.Job, st *Stats) {
	var msgs []jobmsg.Message
	var sent []jobmsg.Job
	for _, j := range jobs {
		jl := joblog.ForJob(log, j.Key, j.ProcessInstanceKey)
		m, err := prepare(ctx, zb, j)
		if err != nil {
			st.Rejected++
			jl.Error("job rejected; failing it without retries so Zeebe raises an incident", "elementId", j.ElementID, "error", err)
			if ferr := zb.FailJob(ctx, j.Key, 0, err.Error(), 0); ferr != nil {
				jl.Error("could not fail rejected job", "error", ferr)
			}
			continue
		}
		msgs = append(msgs, m)
		sent = append(sent, j)
	}
	if len(msgs) == 0 {
		return
	}
	errs := pub.Publish(ctx, cfg.TopicARN, msgs)
	for i, j := range sent {
		jl := joblog.ForJob(log, j.Key, j.ProcessInstanceKey)
		if errs[i] == nil {
			st.Published++
			jl.Info("job published", "elementId", j.ElementID, "lambdaIdentifier", j.Identifier(), "retries", j.Retries)
			continue
		}
		st.PublishFailed++
		// Retries stay as they are: SNS failing is not the function failing.
		msg := fmt.Sprintf("zeebe-lambda-bridge could not publish the job to SNS: %v", errs[i])
		jl.Warn("publish failed; handing the job back to Zeebe with retries unchanged", "error", errs[i], "backoff", cfg.PublishBackoff.String())
		if err := zb.FailJob(ctx, j.Key, j.Retries, msg, cfg.PublishBackoff); err != nil {
			jl.Error("could not hand back the job; it returns when its timeout expires", "error", err)
		}
	}
}

// prepare applies the job's timeout header and encodes it. Its errors are
// modelling or payload problems that a retry cannot fix.
func prepare(ctx context.Context, zb Zeebe, j jobmsg.Job) (jobmsg.Message, error) {
	if j.Identifier() == "" {
		return jobmsg.Message{}, fmt.Errorf("%w: element %q of process %q must name its Lambda function: add <zeebe:header key=%q value=\"<function name>\"/> to the service task",
			ErrNoIdentifier, j.ElementID, j.BPMNProcessID, jobmsg.HeaderIdentifier)
	}
	if raw, ok := j.CustomHeaders[jobmsg.HeaderTimeout]; ok && raw != "" {
		d, err := ParseISODuration(raw)
		if err != nil {
			return jobmsg.Message{}, fmt.Errorf("element %q: task header %q: %w", j.ElementID, jobmsg.HeaderTimeout, err)
		}
		if err := zb.UpdateJobTimeout(ctx, j.Key, d); err != nil {
			return jobmsg.Message{}, fmt.Errorf("element %q: apply task header %s=%s: %w", j.ElementID, jobmsg.HeaderTimeout, raw, err)
		}
		j.Deadline = time.Now().Add(d).UnixMilli()
	}
	m, err := jobmsg.EncodeJob(j)
	if errors.Is(err, jobmsg.ErrTooLarge) {
		return jobmsg.Message{}, fmt.Errorf("element %q: %w; pass less data to the task (input mappings) or store it elsewhere and pass a reference", j.ElementID, err)
	}
	return m, err
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
