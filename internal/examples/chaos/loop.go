package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// LoopInput is one turn of the echo loop of bpmn/echo-loop.bpmn: the turn
// number and the faults to inject.
type LoopInput struct {
	I      int        `json:"i"`
	Faults LoopFaults `json:"faults"`
}

// LoopFaults says which turns misbehave, and how. A turn t has a fault of a
// kind when t % every == offset (errors at 1, panics at 2, lost outcomes at 3),
// so each kind hits turns of its own most of the time. Errors and panics hit
// only the first attempt (the job's retries equal FirstRetries), lost
// outcomes only the first run of a job in this process, so every chain ends.
// LoseAlways loses the outcome of every run instead: a lasting fault (SNS
// refusing), which only the returner's bound on hand-backs ends.
type LoopFaults struct {
	ErrorEvery   int   `json:"errorEvery"`
	PanicEvery   int   `json:"panicEvery"`
	LoseEvery    int   `json:"loseEvery"`
	LoseAlways   bool  `json:"loseAlways"`
	FirstRetries int32 `json:"firstRetries"`
}

// LoopResult is the next turn, and (only in an outcome that is to be lost)
// the mark that makes LosingPublisher fail it.
type LoopResult struct {
	I    int  `json:"i"`
	Lose bool `json:"zlbLoseOutcome,omitempty"`
}

// Fault kinds, as the "loop run" log line names them.
const (
	FaultNone  = ""
	FaultError = "error"
	FaultPanic = "panic"
	FaultLose  = "lose"
)

// ErrInjected is the error of a turn that fails on purpose.
var ErrInjected = errors.New("injected fault: handler error")

// Loop is the handler of the "loop" function: it counts a turn, logging one
// "loop run" line per run with the job and process instance keys, the turn
// and the fault injected (the soak test counts runs from them).
type Loop struct {
	log  *slog.Logger
	lost sync.Map // job keys whose outcome this process already lost once
}

// NewLoop returns a Loop logging to log.
func NewLoop(log *slog.Logger) *Loop { return &Loop{log: log} }

// Handle runs one turn.
func (l *Loop) Handle(ctx context.Context, in LoopInput) (LoopResult, error) {
	job, _ := lambdakit.JobFromContext(ctx)
	f := in.Faults
	first := f.FirstRetries == 0 || job.Retries >= f.FirstRetries
	fault := FaultNone
	switch {
	case first && hits(in.I, f.ErrorEvery, 1):
		fault = FaultError
	case first && hits(in.I, f.PanicEvery, 2):
		fault = FaultPanic
	case f.LoseAlways:
		fault = FaultLose
	case hits(in.I, f.LoseEvery, 3):
		if _, seen := l.lost.LoadOrStore(job.Key, true); !seen {
			fault = FaultLose
		}
	}
	joblog.ForJob(l.log, job.Key, job.ProcessInstanceKey).Info("loop run", "i", in.I, "retries", job.Retries, "fault", fault)
	switch fault {
	case FaultError:
		return LoopResult{}, ErrInjected
	case FaultPanic:
		panic(fmt.Sprintf("injected fault: handler panic at turn %d", in.I))
	}
	return LoopResult{I: in.I + 1, Lose: fault == FaultLose}, nil
}

func hits(turn, every, offset int) bool { return every > 0 && turn%every == offset%every }

// Planned counts, for one chain of turns turns, the runs that Handle makes
// fail on purpose: the first run of an error turn, of a panic turn (unless it
// is an error turn), and the first run in a process of any lost turn (which,
// on an error or panic turn, is the retry's).
func (f LoopFaults) Planned(turns int) map[string]int {
	n := map[string]int{}
	for i := range turns {
		switch {
		case hits(i, f.ErrorEvery, 1):
			n[FaultError]++
		case hits(i, f.PanicEvery, 2):
			n[FaultPanic]++
		}
		if hits(i, f.LoseEvery, 3) {
			n[FaultLose]++
		}
	}
	return n
}

// LosingPublisher fails, as an SNS outage would, every outcome that carries
// LoopResult's mark, and passes the others to Publisher.
type LosingPublisher struct{ Publisher jobmsg.Publisher }

var loseMark = []byte(`"zlbLoseOutcome":true`)

// Publish implements jobmsg.Publisher.
func (p LosingPublisher) Publish(ctx context.Context, topicARN string, msgs []jobmsg.Message) []error {
	errs := make([]error, len(msgs))
	var pass []jobmsg.Message
	var at []int
	for i, m := range msgs {
		if bytes.Contains(m.Body, loseMark) {
			errs[i] = errors.New("injected fault: SNS publish failed")
			continue
		}
		pass = append(pass, m)
		at = append(at, i)
	}
	if len(pass) > 0 {
		res := p.Publisher.Publish(ctx, topicARN, pass)
		for j, i := range at {
			if j < len(res) {
				errs[i] = res[j]
			} else {
				errs[i] = fmt.Errorf("publisher returned %d results for %d messages", len(res), len(pass))
			}
		}
	}
	return errs
}
