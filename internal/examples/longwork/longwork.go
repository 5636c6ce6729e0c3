// Package longwork is the example of asynchronous completion: work that
// outlives a Lambda invocation.
//
// Start (the Lambda "long-work", BPMN identifier long-work) is a lambdakit
// handler: it takes the job's completion token, puts a work item on the
// long-work queue and answers lambdakit.ErrResultPending. Finish (the Lambda
// "long-work-finish", fed by that queue) stands for the system that does the
// work: each time the item comes back it sends a heartbeat, and when the work
// is due it completes the job through the token (package completion). The
// item waits on the queue between visits with SQS's message delay, at most
// 15 minutes at a time, so the same two functions finish work an hour later
// in production and seconds later in the demo.
package longwork

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsbatch"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// EnvQueueURL names the long-work queue, for both functions.
const EnvQueueURL = "WORK_QUEUE_URL"

// maxDelay is SQS's longest message delay.
const maxDelay = 15 * time.Minute

// Input is what the process asks for (its variables).
type Input struct {
	// WorkSeconds is how long the work takes.
	WorkSeconds float64 `json:"workSeconds"`
	// HeartbeatSeconds is the interval between heartbeats; zero sends none,
	// which suits work that ends well within the task's timeout.
	HeartbeatSeconds float64 `json:"heartbeatSeconds"`
	// HeartbeatForSeconds stops the heartbeats this long after the start,
	// as a worker that died would; zero keeps them up until the work is done.
	HeartbeatForSeconds float64 `json:"heartbeatForSeconds"`
}

// Item is the work item on the queue.
type Item struct {
	Token      string    `json:"token"`
	StartedAt  time.Time `json:"startedAt"`
	DueAt      time.Time `json:"dueAt"`
	Heartbeat  float64   `json:"heartbeatSeconds,omitempty"`
	StopBeatAt time.Time `json:"stopHeartbeatAt,omitzero"`
	Heartbeats int       `json:"heartbeats"`
}

// Result is what the finished work sets in the process.
type Result struct {
	LongWork struct {
		StartedAt  time.Time `json:"startedAt"`
		FinishedAt time.Time `json:"finishedAt"`
		Heartbeats int       `json:"heartbeats"`
	} `json:"longWork"`
}

// Queue sends work items (*sqs.Client).
type Queue interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Completer answers jobs through their tokens (*completion.Client).
type Completer interface {
	Complete(ctx context.Context, token string, vars any) error
	Heartbeat(ctx context.Context, token string, timeout time.Duration) error
}

// Worker holds both functions' dependencies.
type Worker struct {
	Queue    Queue
	QueueURL string
	// Completer is Finish's; Start needs none.
	Completer Completer
	Log       *slog.Logger
	Now       func() time.Time
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Start begins the work and answers pending.
func (w *Worker) Start(ctx context.Context, in Input) (struct{}, error) {
	if in.WorkSeconds < 0 || in.HeartbeatSeconds < 0 || in.HeartbeatForSeconds < 0 {
		return struct{}{}, lambdakit.BPMNError("INVALID_WORK", "workSeconds, heartbeatSeconds and heartbeatForSeconds must not be negative", nil)
	}
	token, err := lambdakit.CompletionToken(ctx)
	if err != nil {
		return struct{}{}, err
	}
	now := w.now()
	it := Item{Token: token, StartedAt: now, DueAt: now.Add(seconds(in.WorkSeconds)), Heartbeat: in.HeartbeatSeconds}
	if in.HeartbeatForSeconds > 0 {
		it.StopBeatAt = now.Add(seconds(in.HeartbeatForSeconds))
	}
	if err := w.enqueue(ctx, it); err != nil {
		// A plain error fails the job: Zeebe retries the start.
		return struct{}{}, err
	}
	return struct{}{}, lambdakit.ErrResultPending
}

// Finish visits the work items that come back from the queue.
func (w *Worker) Finish(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsbatch.Process(ctx, ev, func(ctx context.Context, r events.SQSMessage) bool {
		var it Item
		if err := json.Unmarshal([]byte(r.Body), &it); err != nil || it.Token == "" {
			// No job keys to log: the item does not say which job it is.
			w.Log.Error("not a work item; dropped", "messageId", r.MessageId, "error", err)
			return true
		}
		if err := w.visit(ctx, it); err != nil {
			w.Log.Error("work item not handled; SQS delivers it again", "messageId", r.MessageId, "error", err)
			return false
		}
		return true
	}), nil
}

// visit completes the work when it is due, else sends a heartbeat when one
// is due and puts the item back until the next event.
func (w *Worker) visit(ctx context.Context, it Item) error {
	now := w.now()
	tok, err := completion.Parse(it.Token)
	if err != nil {
		return err
	}
	log := joblog.ForJob(w.Log, tok.JobKey, tok.ProcessInstanceKey).With("startedAt", it.StartedAt, "dueAt", it.DueAt)
	if !now.Before(it.DueAt) {
		var res Result
		res.LongWork.StartedAt, res.LongWork.FinishedAt, res.LongWork.Heartbeats = it.StartedAt, now, it.Heartbeats
		if err := w.Completer.Complete(ctx, it.Token, res); err != nil {
			return fmt.Errorf("complete: %w", err)
		}
		log.Info("work done; completion sent", "heartbeats", it.Heartbeats)
		return nil
	}
	if it.beating(now) {
		if err := w.Completer.Heartbeat(ctx, it.Token, 0); err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		it.Heartbeats++
		log.Info("work goes on; heartbeat sent", "heartbeats", it.Heartbeats)
	}
	return w.enqueue(ctx, it)
}

// beating reports whether the item sends heartbeats at now.
func (it Item) beating(now time.Time) bool {
	return it.Heartbeat > 0 && (it.StopBeatAt.IsZero() || now.Before(it.StopBeatAt))
}

// enqueue puts the item on the queue until its next event: the next
// heartbeat or the end of the work, whichever comes first.
func (w *Worker) enqueue(ctx context.Context, it Item) error {
	now := w.now()
	next := it.DueAt
	if it.beating(now) {
		if hb := now.Add(seconds(it.Heartbeat)); hb.Before(next) {
			next = hb
		}
	}
	delay := min(max(next.Sub(now), 0), maxDelay)
	body, err := json.Marshal(it)
	if err != nil {
		return err
	}
	if w.Queue == nil || w.QueueURL == "" {
		return errors.New("longwork: no work queue (" + EnvQueueURL + ")")
	}
	_, err = w.Queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.QueueURL), MessageBody: aws.String(string(body)),
		DelaySeconds: int32((delay + time.Second - 1) / time.Second)})
	if err != nil {
		return fmt.Errorf("put the work item on the queue: %w", err)
	}
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
