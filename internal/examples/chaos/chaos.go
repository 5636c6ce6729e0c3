// Package chaos holds the Lambdas of the end-to-end tests: one that always
// fails, one that panics and one that outlives its timeout, which show that
// Zeebe, not SQS, retries a job and what a user sees in each case; and one
// that echoes its input, which shows that payloads pass through unchanged.
package chaos

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Input is what the chaos functions read.
type Input struct {
	// SleepSeconds is how long Sleep sleeps.
	SleepSeconds float64 `json:"sleepSeconds"`
}

// Result is an empty result.
type Result struct{}

// ErrSimulated is AlwaysFail's error.
var ErrSimulated = errors.New("always-fail: simulated failure")

// AlwaysFail fails every time.
func AlwaysFail(context.Context, Input) (Result, error) { return Result{}, ErrSimulated }

// Panic panics every time.
func Panic(context.Context, Input) (Result, error) { panic("panic: simulated crash") }

// Sleep sleeps for SleepSeconds and deliberately ignores its context, like a
// handler stuck in a call without a timeout, to show what happens when a
// function runs past its Lambda timeout.
func Sleep(_ context.Context, in Input) (Result, error) {
	time.Sleep(time.Duration(in.SleepSeconds * float64(time.Second)))
	return Result{}, nil
}

// Noop does nothing and sets no variables: the benchmark's function.
func Noop(context.Context, struct{}) (Result, error) { return Result{}, nil }

// EchoInput is what Echo reads. Numbers is a map of anything, as a handler
// that does not know its data's shape reads it: its numbers must come back
// as they were written, however large.
type EchoInput struct {
	Doc     string         `json:"doc"`
	Numbers map[string]any `json:"numbers,omitempty"`
}

// EchoResult is what Echo returns.
type EchoResult struct {
	Echo    string         `json:"echo"`
	Length  int            `json:"length"`
	Numbers map[string]any `json:"numbers,omitempty"`
}

// EventLine is the log line Event writes for each business event.
const EventLine = "business event received"

// Event is echo's handler of business events (lambdakit.WithEvents): it
// logs the event's body, which the end-to-end tests look for.
func Event(_ context.Context, r events.SQSMessage) error {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info(EventLine, "messageId", r.MessageId, "body", r.Body)
	return nil
}

// Echo returns its input document, and its length in bytes as the handler
// saw it, and its numbers.
func Echo(_ context.Context, in EchoInput) (EchoResult, error) {
	return EchoResult{Echo: in.Doc, Length: len(in.Doc), Numbers: in.Numbers}, nil
}
