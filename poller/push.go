package poller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Streamer receives jobs by job push (*zeebeclient.Client).
type Streamer interface {
	// StreamJobs hands each job pushed to it to jobs until ctx ends (nil)
	// or the stream fails.
	StreamJobs(ctx context.Context, jobType, worker string, timeout time.Duration, jobs chan<- jobmsg.Job) error
}

// Jobs are handed to the publishers in batches of up to snspub.BatchSize,
// one PublishBatch call each, waiting at most publishLinger for a batch to
// fill, by publishers goroutines, so that a slow SNS call never holds up
// activation. A broken stream is opened again after pushReopen.
const (
	publishLinger = 5 * time.Millisecond
	publishers    = 4
	pushReopen    = time.Second
)

// RunPush is the long-lived poller with job push: Zeebe pushes each job to
// the stream as it becomes activatable, and a long poll beside it picks up
// what was activatable before the stream opened (or while it was broken), or
// everything, where the gateway does not offer job push. Activation and
// publishing run in their own goroutines. It runs until ctx is cancelled, and
// then publishes (or hands back) every job it received before it returns.
func RunPush(ctx context.Context, cfg Config, zb Zeebe, st Streamer, pub jobmsg.Publisher, log *slog.Logger, opts ...Option) Stats {
	var co collaborators
	for _, o := range opts {
		o(&co)
	}
	jobs := make(chan jobmsg.Job, 4*max(int(cfg.MaxJobsActive), 1))

	var producers sync.WaitGroup
	producers.Go(func() { stream(ctx, cfg, st, jobs, log) })
	producers.Go(func() { poll(ctx, cfg, zb, jobs, log) })
	go func() {
		producers.Wait()
		close(jobs)
	}()

	total := publishAll(ctx, cfg, zb, pub, co, log, jobs)
	log.Info("poller run finished", "activated", total.Activated, "published", total.Published,
		"publishFailed", total.PublishFailed, "rejected", total.Rejected, "gone", total.Gone)
	return total
}

// publishAll publishes (or hands back) the jobs of in, in batches, until in
// is closed and drained, and returns what became of them.
func publishAll(ctx context.Context, cfg Config, zb Zeebe, pub jobmsg.Publisher, co collaborators, log *slog.Logger, in <-chan jobmsg.Job) Stats {
	stats := make([]Stats, publishers)
	ready := batches(in, snspub.BatchSize)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Go(func() {
			for batch := range ready {
				stats[i].Activated += len(batch)
				// ctx may be cancelled: handOff publishes what is received regardless.
				handOff(ctx, cfg, zb, pub, co, log, batch, &stats[i])
			}
		})
	}
	wg.Wait()
	var total Stats
	for _, s := range stats {
		total.Activated += s.Activated
		total.Published += s.Published
		total.PublishFailed += s.PublishFailed
		total.Rejected += s.Rejected
		total.Gone += s.Gone
	}
	return total
}

// stream keeps a job push stream open until ctx ends; where the gateway has
// none (UNIMPLEMENTED), it leaves the work to the long poll.
func stream(ctx context.Context, cfg Config, st Streamer, jobs chan<- jobmsg.Job, log *slog.Logger) {
	for ctx.Err() == nil {
		err := st.StreamJobs(ctx, cfg.JobType, cfg.Worker, cfg.JobTimeout, jobs)
		if ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.Unimplemented {
			log.Warn("the gateway offers no job push; long polling only", "error", err)
			return
		}
		msg := "job push stream broke; opening it again"
		if zeebeclient.IsCredentials(err) {
			msg = "job push stream refused: Zeebe refused the poller's credentials (ZEEBE_CLIENT_ID, ZEEBE_CLIENT_SECRET or ZEEBE_CLIENT_SECRET_ARN, ZEEBE_TOKEN_AUDIENCE, ZEEBE_TOKEN_SCOPE); opening it again"
		}
		log.Warn(msg, "error", err, "retryIn", pushReopen.String())
		sleep(ctx, pushReopen)
	}
}

// poll long-polls beside the stream until ctx ends.
func poll(ctx context.Context, cfg Config, zb Zeebe, jobs chan<- jobmsg.Job, log *slog.Logger) {
	backoff := activateBackoffMin
	for ctx.Err() == nil {
		got, err := zb.ActivateJobs(ctx, cfg.JobType, cfg.Worker, cfg.MaxJobsActive, cfg.JobTimeout, cfg.LongPoll)
		for _, j := range got {
			jobs <- j // activated: never dropped
		}
		if err == nil || ctx.Err() != nil {
			backoff = activateBackoffMin
			continue
		}
		log.Warn(activateFailed(err), "jobType", cfg.JobType, "error", err, "retryIn", backoff.String())
		sleep(ctx, backoff)
		backoff = min(2*backoff, activateBackoffMax)
	}
}

// batches groups the jobs of in into batches of up to size. A batch goes out
// when it is full or publishLinger after its first job, as soon as a
// publisher takes it; while every publisher is busy it keeps filling, so
// that under load jobs leave in full batches.
func batches(in <-chan jobmsg.Job, size int) <-chan []jobmsg.Job {
	size = max(size, 1)
	out := make(chan []jobmsg.Job)
	go func() {
		defer close(out)
		for first := range in {
			batch := []jobmsg.Job{first}
			linger := time.NewTimer(publishLinger)
		fill:
			for len(batch) < size {
				select {
				case j, ok := <-in:
					if !ok {
						break fill
					}
					batch = append(batch, j)
				case <-linger.C:
					break fill
				}
			}
			linger.Stop()
			// Hand it over; until a publisher takes it, keep filling it.
			for batch != nil {
				if len(batch) >= size {
					out <- batch
					break
				}
				select {
				case out <- batch:
					batch = nil
				case j, ok := <-in:
					if !ok {
						out <- batch
						return
					}
					batch = append(batch, j)
				}
			}
		}
	}()
	return out
}
