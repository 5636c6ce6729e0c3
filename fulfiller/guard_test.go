package fulfiller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation/activationtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/returner"
)

// jobZeebe is one job as Zeebe 8.5 keeps it: CompleteJob, FailJob and
// ThrowError are accepted while it is activatable or activated (whatever the
// activation), refused with FAILED_PRECONDITION while it waits out a
// backoff, and NOT_FOUND once it is completed. applied lists, for every
// command Zeebe took, the activation the job was on: what the guard must
// keep to the activation the command answers.
type jobZeebe struct {
	mu         sync.Mutex
	key        int64
	state      string // activated, backoff, activatable, completed, errored
	activation int64
	applied    []string
	// lose makes the next command reach Zeebe but its answer time out, as a
	// DEADLINE_EXCEEDED after the broker wrote it.
	lose bool
	// unavailable makes the next command fail before it reaches Zeebe.
	unavailable bool
}

func (z *jobZeebe) command(op string, key int64, next func() string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.unavailable {
		z.unavailable = false
		return status.Error(codes.Unavailable, "gateway down")
	}
	switch {
	case key != z.key, z.state == "completed":
		return status.Errorf(codes.NotFound, "Expected to %s job with key '%d', but no such job was found", op, key)
	case z.state == "backoff", z.state == "errored":
		return status.Errorf(codes.FailedPrecondition, "Expected to %s job with key '%d', but it is in state 'FAILED'", op, key)
	case op == "update the timeout of" && z.state != "activated":
		return status.Errorf(codes.FailedPrecondition, "Expected to update the timeout of job with key '%d', but it is not active", key)
	}
	z.applied = append(z.applied, fmt.Sprintf("%s@%d", strings.Fields(op)[0], z.activation))
	z.state = next()
	if z.lose {
		z.lose = false
		return status.Error(codes.DeadlineExceeded, "context deadline exceeded")
	}
	return nil
}

func (z *jobZeebe) CompleteJob(_ context.Context, key int64, _ json.RawMessage) error {
	return z.command("complete", key, func() string { return "completed" })
}

func (z *jobZeebe) FailJob(_ context.Context, key int64, retries int32, _ string, backoff time.Duration) error {
	return z.command("fail", key, func() string {
		switch {
		case retries <= 0:
			return "errored" // an incident
		case backoff > 0:
			return "backoff"
		}
		return "activatable"
	})
}

func (z *jobZeebe) ThrowError(_ context.Context, key int64, _, _ string, _ json.RawMessage) error {
	return z.command("throw", key, func() string { return "completed" })
}

func (z *jobZeebe) UpdateJobTimeout(_ context.Context, key int64, _ time.Duration) error {
	return z.command("update the timeout of", key, func() string { return z.state })
}

func (z *jobZeebe) backoffElapsed() {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.state == "backoff" {
		z.state = "activatable"
	}
}

func (z *jobZeebe) activate(act int64) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.state, z.activation = "activated", act
}

func (z *jobZeebe) log() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	return append([]string(nil), z.applied...)
}

// guardWorld is the bridge around one job: the poller's activations (with
// its record in the guard's store), lambdakit's and the returner's answers,
// and the fulfiller.
type guardWorld struct {
	t      *testing.T
	zb     *jobZeebe
	s3     *activationtest.S3
	store  *activation.Store
	h      *fulfiller.Handler
	logs   *joblogtest.Buffer
	jobs   map[int64]jobmsg.Job // by activation
	guard  bool
	record int
}

const guardJob = int64(2251799813685311)

var guardKey = jobtoken.Key{ID: "k1", Secret: strings.Repeat("g", 32)}

func newGuardWorld(t *testing.T, guard bool) *guardWorld {
	w := &guardWorld{t: t, zb: &jobZeebe{key: guardJob}, s3: &activationtest.S3{}, logs: &joblogtest.Buffer{}, jobs: map[int64]jobmsg.Job{}, guard: guard}
	w.store = &activation.Store{API: w.s3, Bucket: "payloads"}
	w.h = fulfiller.New(w.zb, joblog.New(w.logs, true))
	if guard {
		w.h.Guard = w.store
	}
	w.h.Leases = &memLeases{}
	return w
}

// activate is the poller: Zeebe hands the job out as activation n (its
// deadline in the future), the poller records it, then publishes it.
func (w *guardWorld) activate(n int) int64 {
	act := time.Now().Add(time.Duration(5+n) * time.Minute).UnixMilli()
	w.zb.activate(act)
	if w.guard {
		require.NoError(w.t, w.store.Record(context.Background(), guardJob, act))
	}
	j := jobmsg.Job{Key: guardJob, ProcessInstanceKey: guardJob * 10, Type: "lambda", Retries: 3, Deadline: act,
		ElementID: "Task_A", CustomHeaders: map[string]string{"identifier": "book-hotel"}}
	j.Token = jobtoken.Sign(guardKey, j.Key, j.Deadline, j.Identifier())
	w.jobs[act] = j
	return act
}

// answer is lambdakit's outcome for an activation.
func (w *guardWorld) answer(act int64, o jobmsg.Outcome) events.SQSMessage {
	o, err := jobtoken.Attach(w.jobs[act], o)
	require.NoError(w.t, err)
	w.record++
	return record(w.t, fmt.Sprintf("m%d", w.record), o, true)
}

// deliver hands one record to the fulfiller and returns its class, as the
// log line and the batch response show it.
func (w *guardWorld) deliver(r events.SQSMessage) string {
	resp, err := w.h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{r}})
	require.NoError(w.t, err)
	if len(resp.BatchItemFailures) == 1 {
		return "reported"
	}
	return "acknowledged"
}

var (
	failRetry = jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, ErrorMessage: "boom", RetryBackoffMs: 1000}
	complete  = jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"booked":true}`)}
)

// TestNoAnswerTouchesAnotherActivation: every way a duplicate answer reaches
// the fulfiller (issue 20), with the guard and, to show each case would
// harm without it, without. "fail@A" is a FailJob Zeebe applied while the
// job was on activation A.
func TestNoAnswerTouchesAnotherActivation(t *testing.T) {
	tests := []struct {
		name string
		// run plays the case and returns what each delivery became.
		run       func(w *guardWorld) []string
		want      []string // with the guard
		dups      int      // duplicates acknowledged for the guard, each with a log line and OutcomesAlreadyAnswered
		applied   func(a, b int64) []string
		unguarded func(a, b int64) []string // what Zeebe applies without the guard
	}{
		{
			name: "a duplicate fail outcome delivered after the job was activated again",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				fail := w.answer(a, failRetry)
				first := w.deliver(fail)
				w.zb.backoffElapsed()
				w.activate(2)
				return []string{first, w.deliver(fail)}
			},
			want:      []string{"acknowledged", "acknowledged"},
			dups:      1,
			applied:   func(a, _ int64) []string { return []string{at("fail", a)} },
			unguarded: func(a, b int64) []string { return []string{at("fail", a), at("fail", b)} },
		},
		{
			name: "a duplicate fail outcome delivered during the backoff is acknowledged, not dead-lettered",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				fail := w.answer(a, failRetry)
				return []string{w.deliver(fail), w.deliver(fail)}
			},
			want:    []string{"acknowledged", "acknowledged"},
			dups:    1,
			applied: func(a, _ int64) []string { return []string{at("fail", a)} },
			// Without the guard Zeebe answers FAILED_PRECONDITION: the DLQ and its alarm.
			unguarded: func(a, _ int64) []string { return []string{at("fail", a)} },
		},
		{
			name: "a duplicate complete (its activation answered by a fail meanwhile) delivered after the job was activated again",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				first := w.deliver(w.answer(a, failRetry))
				w.zb.backoffElapsed()
				w.activate(2)
				c := w.answer(a, complete)
				return []string{first, w.deliver(c), w.deliver(c)}
			},
			want:      []string{"acknowledged", "acknowledged", "acknowledged"},
			dups:      2,
			applied:   func(a, _ int64) []string { return []string{at("fail", a)} },
			unguarded: func(a, b int64) []string { return []string{at("fail", a), at("complete", b)} },
		},
		{
			name: "a FailJob retried after DEADLINE_EXCEEDED, once the job was activated again",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				fail := w.answer(a, failRetry)
				w.zb.lose = true
				first := w.deliver(fail) // Zeebe applied it; the fulfiller cannot know
				w.zb.backoffElapsed()
				w.activate(2)
				return []string{first, w.deliver(fail)}
			},
			want:      []string{"reported", "acknowledged"},
			dups:      1,
			applied:   func(a, _ int64) []string { return []string{at("fail", a)} },
			unguarded: func(a, b int64) []string { return []string{at("fail", a), at("fail", b)} },
		},
		{
			name: "a FailJob retried after DEADLINE_EXCEEDED, during the backoff",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				fail := w.answer(a, failRetry)
				w.zb.lose = true
				return []string{w.deliver(fail), w.deliver(fail)}
			},
			// Zeebe answers FAILED_PRECONDITION: the first attempt's doing, so a duplicate.
			want:      []string{"reported", "acknowledged"},
			dups:      1,
			applied:   func(a, _ int64) []string { return []string{at("fail", a)} },
			unguarded: func(a, _ int64) []string { return []string{at("fail", a)} },
		},
		{
			name: "a FailJob retried after UNAVAILABLE is sent again and applied once",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				fail := w.answer(a, failRetry)
				w.zb.unavailable = true
				return []string{w.deliver(fail), w.deliver(fail)}
			},
			want:      []string{"reported", "acknowledged"},
			dups:      0,
			applied:   func(a, _ int64) []string { return []string{at("fail", a)} },
			unguarded: func(a, _ int64) []string { return []string{at("fail", a)} },
		},
		{
			name: "a heartbeat for an answered activation does not extend the next one",
			run: func(w *guardWorld) []string {
				a := w.activate(1)
				hb := w.answer(a, jobmsg.Outcome{Outcome: jobmsg.Heartbeat, Async: true, Deadline: a, TimeoutMs: 60_000})
				first := w.deliver(hb)
				second := w.deliver(w.answer(a, jobmsg.Outcome{Outcome: jobmsg.Fail, Async: true, Deadline: a, Retries: 2, RetryBackoffMs: 1000}))
				w.zb.backoffElapsed()
				w.activate(2)
				return []string{first, second, w.deliver(hb)}
			},
			want:      []string{"acknowledged", "acknowledged", "acknowledged"},
			dups:      1,
			applied:   func(a, _ int64) []string { return []string{at("update", a), at("fail", a)} },
			unguarded: func(a, b int64) []string { return []string{at("update", a), at("fail", a), at("update", b)} },
		},
	}
	for _, tt := range tests {
		for _, guard := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/guard=%v", tt.name, guard), func(t *testing.T) {
				w := newGuardWorld(t, guard)
				got := tt.run(w)
				acts := w.activations()
				b := int64(0)
				if len(acts) > 1 {
					b = acts[1]
				}
				if !guard {
					assert.Equal(t, tt.unguarded(acts[0], b), w.zb.log())
					return
				}
				assert.Equal(t, tt.want, got)
				assert.Equal(t, tt.applied(acts[0], b), w.zb.log())
				assert.NotContains(t, string(w.logs.Bytes()), "goes to the DLQ")
				assert.Len(t, joblogtest.About(w.logs.Lines(t), "OutcomesAlreadyAnswered", 1.0), tt.dups)
			})
		}
	}
}

// activations lists the job's activations in the order the poller made them.
func (w *guardWorld) activations() []int64 {
	var acts []int64
	for a := range w.jobs {
		acts = append(acts, a)
	}
	if len(acts) == 2 && acts[0] > acts[1] {
		acts[0], acts[1] = acts[1], acts[0]
	}
	return acts
}

func at(op string, act int64) string { return fmt.Sprintf("%s@%d", op, act) }

// TestReturnerRacesAPublishedOutcome: lambdakit saw an error publishing the
// function's outcome, but SNS took it; the job message reached the DLQ and
// the returner hands the job back. Whichever answer claims the activation
// first is the one Zeebe applies; the other is a duplicate.
func TestReturnerRacesAPublishedOutcome(t *testing.T) {
	tests := []struct {
		name string
		// outcomeFirst: the function's outcome reaches the fulfiller before
		// the returner handles the DLQ record.
		outcomeFirst bool
		returned     returner.Verdict
		published    int
		// Duplicates with their log line and metric: the fulfiller's, the returner's.
		outcomeDups, returnDups int
		applied                 func(a int64) []string
	}{
		{"the outcome first: the returner returns nothing", true, returner.Stale, 0, 1, 2,
			func(a int64) []string { return []string{at("complete", a)} }},
		{"the hand-back first: the outcome is a duplicate", false, returner.Returned, 1, 2, 1,
			func(a int64) []string { return []string{at("fail", a)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newGuardWorld(t, true)
			a := w.activate(1)
			pub := &captured{}
			rt := &returner.Handler{Publisher: pub, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete",
				Log: joblog.New(w.logs, true), Guard: w.store}
			jm, err := jobmsg.EncodeJob(w.jobs[a])
			require.NoError(t, err)
			dead := events.SQSMessage{MessageId: "dlq-1", Body: string(jm.Body), EventSource: "aws:sqs",
				EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel_dlq"}
			fnOutcome := w.answer(a, complete)

			var got []string
			if tt.outcomeFirst {
				got = append(got, w.deliver(fnOutcome))
				assert.Equal(t, tt.returned, rt.Record(context.Background(), dead))
			} else {
				assert.Equal(t, tt.returned, rt.Record(context.Background(), dead))
				got = append(got, w.deliver(fnOutcome))
			}
			require.Len(t, pub.msgs, tt.published)
			for _, m := range pub.msgs {
				got = append(got, w.deliver(events.SQSMessage{MessageId: "hand-back", Body: string(m.Body), EventSource: "aws:sqs"}))
			}
			assert.Equal(t, tt.applied(a), w.zb.log())
			for i, g := range got {
				assert.Equal(t, "acknowledged", g, "delivery %d", i)
			}
			if !tt.outcomeFirst {
				// The hand-back brings activation 2; neither answer touches it.
				w.zb.backoffElapsed()
				w.activate(2)
			}
			assert.Equal(t, returner.Stale, rt.Record(context.Background(), dead), "the record delivered again")
			assert.Equal(t, "acknowledged", w.deliver(fnOutcome), "the outcome delivered again")
			assert.Equal(t, tt.applied(a), w.zb.log())
			lines := w.logs.Lines(t)
			assert.Len(t, joblogtest.About(lines, "OutcomesAlreadyAnswered", 1.0), tt.outcomeDups)
			assert.Len(t, joblogtest.About(lines, "ReturnsAlreadyAnswered", 1.0), tt.returnDups)
			assert.NotContains(t, string(w.logs.Bytes()), "goes to the DLQ")
		})
	}
}

// TestOffloadedDuplicate: an outcome offloaded to S3 and delivered twice.
// The first delivery applies it and deletes its payload; the second finds
// the payload gone. With the guard the activation's claim shows it was
// served: a duplicate, not a DLQ entry.
func TestOffloadedDuplicate(t *testing.T) {
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guard), func(t *testing.T) {
			w := newGuardWorld(t, guard)
			payloads := &claimcheck.Store{API: &activationtest.S3{}, Bucket: "payloads", Threshold: 1024}
			w.h.Payloads = payloads
			a := w.activate(1)
			o, err := jobtoken.Attach(w.jobs[a], jobmsg.Outcome{Outcome: jobmsg.Complete,
				Variables: json.RawMessage(`{"doc":"` + strings.Repeat("x", 2048) + `"}`)})
			require.NoError(t, err)
			m, offloaded, err := claimcheck.EncodeOutcome(context.Background(), payloads, "book-hotel", guardJob, a, o)
			require.NoError(t, err)
			require.True(t, offloaded)
			rec := events.SQSMessage{MessageId: "big", Body: string(m.Body), EventSource: "aws:sqs"}

			assert.Equal(t, "acknowledged", w.deliver(rec))
			second := w.deliver(rec)
			assert.Equal(t, []string{at("complete", a)}, w.zb.log())
			if guard {
				assert.Equal(t, "acknowledged", second)
				assert.Len(t, joblogtest.About(w.logs.Lines(t), "OutcomesAlreadyAnswered", 1.0), 1)
				assert.NotContains(t, string(w.logs.Bytes()), "goes to the DLQ")
				return
			}
			assert.Equal(t, "reported", second, "without the guard a served payload looks lost: the DLQ")
		})
	}
}
