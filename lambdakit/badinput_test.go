package lambdakit_test

// The bad-input table of lambdakit: every input that can reach a wrapped
// function, what lambdakit answers, and proof that the good job messages of
// the same batch are processed exactly once regardless.
//
// Reused from lambdakit_test.go: fakePublisher, fakeDeadLetters, syncBuffer,
// jobRecord, testConfig, invoke and now.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// biIn and biOut are the handler's types: a number in, its double out.
type biIn struct{ N int }
type biOut struct{ Twice int }

// biRuns is the handler of the table; it counts its runs per job key (0 for
// a direct invocation, which has no job).
type biRuns struct {
	mu    sync.Mutex
	byKey map[int64]int
}

func (r *biRuns) handle(ctx context.Context, in biIn) (biOut, error) {
	var key int64
	if j, ok := lambdakit.JobFromContext(ctx); ok {
		key = j.Key
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey == nil {
		r.byKey = map[int64]int{}
	}
	r.byKey[key]++
	return biOut{Twice: 2 * in.N}, nil
}

func (r *biRuns) of(key int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byKey[key]
}

// biJob is a job record of the table's handler: key, process instance key*10.
func biJob(t *testing.T, id string, key int64, vars string, mutate func(*jobmsg.Job)) events.SQSMessage {
	t.Helper()
	return jobRecord(t, id, vars, func(j *jobmsg.Job) {
		j.Key, j.ProcessInstanceKey = key, key*10
		if mutate != nil {
			mutate(j)
		}
	})
}

// biRaw is an SQS record with the body as it is.
func biRaw(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// biEnvelope wraps message in the notification SNS writes to SQS when raw
// message delivery is off.
func biEnvelope(t *testing.T, id, message string) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "6a1e3b4c",
		"TopicArn": "arn:aws:sns:us-east-1:000000000000:zeebe_jobs", "Message": message})
	require.NoError(t, err)
	return biRaw(id, string(b))
}

// biPayload is an Invoke payload {"Records":[...]} of the given records,
// each already JSON.
func biPayload(t *testing.T, recs ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": recs})
	require.NoError(t, err)
	return b
}

type lkAnswer int

const (
	// lkReject: not a job message. With DeadLetters, moved to the DLQ with
	// the reason and acknowledged; without (or when the DLQ is
	// unreachable), a batch item failure.
	lkReject lkAnswer = iota
	// lkFailOutcome: a fail outcome is published for the job.
	lkFailOutcome
	// lkDropped: acknowledged without running the handler or publishing.
	lkDropped
	// lkRun: the handler runs and its outcome is published, once per record.
	lkRun
	// lkInvokeError: Invoke returns an error (the function error).
	lkInvokeError
)

// goodsFate is what happens to the good records of the batch.
type goodsFate int

const (
	// goodsProcessed: each runs once, its outcome is published once, and it
	// is not in batchItemFailures.
	goodsProcessed goodsFate = iota
	// goodsHeldBack: Invoke failed, so none ran and SQS deletes none of
	// them: they come back (or reach the DLQ, and through the returner
	// Zeebe) with the whole batch. Nothing is lost, nothing ran twice.
	goodsHeldBack
)

// lkLog is a log line expected about the bad record(s).
type lkLog struct {
	msg   string
	attrs map[string]any // as JSON decodes them: numbers are float64
}

// TestBadInputLambdakit runs every row in a batch between two good job
// messages (keys 101 and 102), once with DeadLetters, once without and once
// with a DLQ that cannot be reached.
func TestBadInputLambdakit(t *testing.T) {
	staleDeadline := now().Add(-time.Second)
	rows := []struct {
		name string
		// Exactly one of bad, payload and direct says what the bad input is.
		bad     func(t *testing.T) []events.SQSMessage              // records put between the good ones
		payload func(t *testing.T, good []events.SQSMessage) []byte // the whole Invoke payload
		direct  []byte                                              // a direct invocation, run alongside the good batch
		answer  lkAnswer
		reason  string // lkReject: the reason, in the DLQ record and the log line
		detail  string // substring of the error: DLQ reason, log line, outcome or Invoke error
		badKey  int64  // job key of the bad record, when it has one
		runs    int    // lkRun: handler runs for badKey
		outcome jobmsg.Outcome
		logs    []lkLog // lines about the bad record(s), besides the reject lines
		goods   goodsFate
	}{
		{
			name:   "not JSON",
			bad:    func(*testing.T) []events.SQSMessage { return []events.SQSMessage{biRaw("bad", "{not json")} },
			answer: lkReject, reason: "not a job message", detail: "malformed message: invalid character 'n'",
			logs: []lkLog{{attrs: map[string]any{joblog.KeyJob: 0.0, joblog.KeyProcessInstance: 0.0}}},
		},
		{
			name:   "empty body",
			bad:    func(*testing.T) []events.SQSMessage { return []events.SQSMessage{biRaw("bad", "")} },
			answer: lkReject, reason: "not a job message", detail: "malformed message: unexpected end of JSON input",
		},
		{
			name: "unknown contract version v=99",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":99,"key":7002,"processInstanceKey":70020,"customHeaders":{"identifier":"book-hotel"},"variables":{"N":1}}`)}
			},
			answer: lkReject, reason: "job message of an unsupported contract version", detail: "unsupported message version: v=99, this build speaks v=1",
			logs: []lkLog{{attrs: map[string]any{joblog.KeyJob: 7002.0, joblog.KeyProcessInstance: 70020.0}}},
		},
		{
			name: "SNS envelope whose Message is plain text",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biEnvelope(t, "bad", "hello, this is not a job")}
			},
			answer: lkReject, reason: "not a job message", detail: "malformed message: invalid character 'h'",
		},
		{
			name: "SNS envelope whose Message is an outcome, not a job",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biEnvelope(t, "bad", `{"v":1,"jobKey":7004,"processInstanceKey":70040,"outcome":"complete"}`)}
			},
			answer: lkReject, reason: "not a job message", detail: `malformed message: job message without key or "identifier" header`,
			// The keys of the message inside the envelope, as the fulfiller
			// logs them.
			logs: []lkLog{{attrs: map[string]any{joblog.KeyJob: 7004.0, joblog.KeyProcessInstance: 70040.0}}},
		},
		{
			name: "outcome message delivered raw (queue subscribed to the wrong topic)",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":1,"jobKey":7005,"processInstanceKey":70050,"outcome":"complete"}`)}
			},
			answer: lkReject, reason: "not a job message", detail: `job message without key or "identifier" header`,
			logs: []lkLog{{attrs: map[string]any{joblog.KeyJob: 7005.0, joblog.KeyProcessInstance: 70050.0}}},
		},
		{
			// Input decoding fails before the handler runs: a modelling
			// error a retry would repeat, so an incident (retries 0).
			name: "variables that do not fit the handler's input type",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biJob(t, "bad", 7006, `{"N":"text"}`, nil)}
			},
			answer: lkFailOutcome, badKey: 7006,
			detail:  "the job's variables do not fit the handler's input type lambdakit_test.biIn: json: cannot unmarshal string",
			outcome: jobmsg.Outcome{JobKey: 7006, ProcessInstanceKey: 70060, Outcome: jobmsg.Fail, Retries: 0},
			logs: []lkLog{
				{msg: "the job's variables do not fit the handler's input type; failing the job without retries", attrs: map[string]any{joblog.KeyJob: 7006.0, joblog.KeyProcessInstance: 70060.0, "elementId": "Task_BookHotel"}},
				{msg: "outcome published", attrs: map[string]any{joblog.KeyJob: 7006.0, "outcome": "fail", "retries": 0.0}},
			},
		},
		{
			name: "job message without its key",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biJob(t, "bad", 0, `{"N":1}`, func(j *jobmsg.Job) { j.ProcessInstanceKey = 70070 })}
			},
			answer: lkReject, reason: "not a job message", detail: `malformed message: job message without key or "identifier" header`,
			logs: []lkLog{{attrs: map[string]any{joblog.KeyJob: 0.0, joblog.KeyProcessInstance: 70070.0}}},
		},
		{
			name: "job message without the identifier header",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", `{"v":1,"key":7008,"processInstanceKey":70080,"customHeaders":{},"variables":{"N":1}}`)}
			},
			answer: lkReject, reason: "not a job message", detail: `job message without key or "identifier" header`,
			logs: []lkLog{{attrs: map[string]any{joblog.KeyJob: 7008.0, joblog.KeyProcessInstance: 70080.0}}},
		},
		{
			name: "claim-check pointer, but no PAYLOAD_BUCKET configured",
			bad: func(*testing.T) []events.SQSMessage {
				return []events.SQSMessage{biRaw("bad", string(claimcheck.Pointer{Bucket: "b", Key: "jobs/book-hotel/7009-1.json"}.Body()))}
			},
			answer: lkReject, reason: `claim-check pointer to bucket "b", but the function has no PAYLOAD_BUCKET`, detail: "the job's payload is in S3",
		},
		{
			name: "job whose deadline has passed",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biJob(t, "bad", 7010, `{"N":1}`, func(j *jobmsg.Job) { j.Deadline = staleDeadline.UnixMilli() })}
			},
			answer: lkDropped, badKey: 7010,
			logs: []lkLog{{msg: "job deadline has passed: Zeebe has handed the job out again, so it is dropped without running",
				attrs: map[string]any{joblog.KeyJob: 7010.0, joblog.KeyProcessInstance: 70100.0, "deadline": staleDeadline.UTC().Format(time.RFC3339Nano), "level": "WARN"}}},
		},
		{
			// lambdakit does not deduplicate: both run and both outcomes are
			// published; the fulfiller applies one and acknowledges the
			// other as a duplicate (Zeebe answers NOT_FOUND).
			name: "same job message twice in one batch (SNS delivers at least once)",
			bad: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{biJob(t, "bad-1", 7011, `{"N":5}`, nil), biJob(t, "bad-2", 7011, `{"N":5}`, nil)}
			},
			answer: lkRun, badKey: 7011, runs: 2,
			logs: []lkLog{{msg: "outcome published", attrs: map[string]any{joblog.KeyJob: 7011.0, joblog.KeyProcessInstance: 70110.0, "outcome": "complete"}}},
		},
		{
			name: "job message received a second time (redrive policy allows more than one receive)",
			bad: func(t *testing.T) []events.SQSMessage {
				r := biJob(t, "bad", 7012, `{"N":5}`, nil)
				r.Attributes["ApproximateReceiveCount"] = "2"
				return []events.SQSMessage{r}
			},
			answer: lkRun, badKey: 7012, runs: 1,
			logs: []lkLog{{msg: "job message received more than once; check the queue's redrive policy (maxReceiveCount=1)",
				attrs: map[string]any{joblog.KeyJob: 7012.0, joblog.KeyProcessInstance: 70120.0, "receiveCount": "2", "level": "WARN"}}},
		},
		{
			// The whole event is refused: the good records do not run and
			// are not deleted, so they come back with the batch (or reach
			// the DLQ and, through the returner, Zeebe).
			name: "payload that claims to be an SQS event but cannot be decoded",
			payload: func(t *testing.T, good []events.SQSMessage) []byte {
				return biPayload(t, good[0], json.RawMessage(`{"messageId":"bad","eventSource":"aws:sqs","body":7}`), good[1])
			},
			answer: lkInvokeError, detail: "lambdakit: unreadable SQS event", goods: goodsHeldBack,
		},
		{
			// Refused as a whole, so that SQS keeps the good records (taken
			// for a direct invocation, they would never run and yet be
			// deleted). Only a hand-made payload looks like this: an event
			// source mapping sends aws:sqs records only.
			name: "SQS batch with one record of another event source",
			payload: func(t *testing.T, good []events.SQSMessage) []byte {
				return biPayload(t, good[0], json.RawMessage(`{"messageId":"bad","eventSource":"aws:sns"}`), good[1])
			},
			answer: lkInvokeError, detail: "lambdakit: an SQS event with 1 of its 3 records from another event source: refusing the batch", goods: goodsHeldBack,
		},
		{
			// Run alongside an SQS batch of the good records on the same
			// Handler. The error is the function error; lambdakit writes no
			// log line of its own for it (the Lambda runtime reports it).
			name:   "direct invocation whose payload is not JSON",
			direct: []byte("not json"),
			answer: lkInvokeError, detail: "the invocation's payload does not fit the handler's input type lambdakit_test.biIn: invalid character 'o'",
		},
	}

	for _, tt := range rows {
		for _, mode := range []string{"dlq", "no-dlq", "dlq-unreachable"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				var buf joblogtest.Buffer
				pub := &fakePublisher{}
				runs := &biRuns{}
				cfg := testConfig(pub)
				cfg.Logger = joblog.New(&buf, true)
				var dl *fakeDeadLetters
				switch mode {
				case "dlq":
					dl = &fakeDeadLetters{}
				case "dlq-unreachable":
					dl = &fakeDeadLetters{err: errors.New("AccessDenied")}
				}
				if dl != nil {
					cfg.DeadLetters = dl
				}
				h, err := lambdakit.New(runs.handle, cfg)
				require.NoError(t, err)
				ctx := context.Background()
				good := []events.SQSMessage{biJob(t, "good-1", 101, `{"N":1}`, nil), biJob(t, "good-2", 102, `{"N":2}`, nil)}

				var resp events.SQSEventResponse
				var invokeErr error
				var badIDs []string
				switch {
				case tt.direct != nil:
					var out []byte
					var wg sync.WaitGroup
					wg.Go(func() { out, invokeErr = h.Invoke(ctx, tt.direct) })
					resp = invoke(ctx, t, h, good...)
					wg.Wait()
					assert.Nil(t, out)
				case tt.payload != nil:
					var out []byte
					out, invokeErr = h.Invoke(ctx, tt.payload(t, good))
					if invokeErr == nil {
						require.NoError(t, json.Unmarshal(out, &resp))
					}
				default:
					bad := tt.bad(t)
					for _, r := range bad {
						badIDs = append(badIDs, r.MessageId)
					}
					recs := append(append([]events.SQSMessage{good[0]}, bad...), good[1])
					resp = invoke(ctx, t, h, recs...)
				}

				failed := map[string]bool{}
				for _, f := range resp.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}
				published := map[int64][]jobmsg.Outcome{}
				all := pub.published()
				for _, o := range all {
					published[o.JobKey] = append(published[o.JobKey], o)
				}
				lines := buf.Lines(t)

				// The good records.
				for i, g := range good {
					key := int64(101 + i)
					assert.False(t, failed[g.MessageId], "%s must not be in batchItemFailures", g.MessageId)
					if dl != nil {
						assert.NotContains(t, dl.reasons, g.MessageId, "a good record never goes to the DLQ")
					}
					switch tt.goods {
					case goodsProcessed:
						assert.Equal(t, 1, runs.of(key), "%s runs exactly once", g.MessageId)
						if assert.Len(t, published[key], 1, "%s: exactly one outcome", g.MessageId) {
							assert.Equal(t, jobmsg.Complete, published[key][0].Outcome)
							assert.JSONEq(t, fmt.Sprintf(`{"Twice":%d}`, 2*(i+1)), string(published[key][0].Variables))
						}
						joblogtest.Line(t, joblogtest.About(lines, "messageId", g.MessageId), "outcome published")
					default:
						assert.Zero(t, runs.of(key), "%s must not run", g.MessageId)
						assert.Empty(t, published[key], "%s: no outcome", g.MessageId)
					}
				}

				// The bad input.
				badLines := joblogtest.About(lines, "messageId", badIDs...)
				switch tt.answer {
				case lkReject:
					for _, id := range badIDs {
						msg := "rejecting SQS record: " + tt.reason + "; reported as a batch item failure so it reaches the DLQ"
						switch mode {
						case "dlq":
							assert.False(t, failed[id], "moved to the DLQ, the record is acknowledged")
							assert.True(t, strings.HasPrefix(dl.reasons[id], tt.reason+": "), "DLQ reason %q", dl.reasons[id])
							assert.Contains(t, dl.reasons[id], tt.detail)
							msg = "rejecting SQS record: " + tt.reason + "; moved to the DLQ at once"
						case "no-dlq":
							assert.True(t, failed[id], "without a DLQ at hand, a batch item failure")
						case "dlq-unreachable":
							assert.True(t, failed[id], "the DLQ refused it: a batch item failure")
							l := joblogtest.Line(t, joblogtest.About(lines, "messageId", id), "could not move the record to the DLQ; it gets there when its visibility timeout ends")
							assert.Contains(t, l["error"], "AccessDenied")
						}
						l := joblogtest.Line(t, joblogtest.About(lines, "messageId", id), msg)
						assert.Equal(t, "ERROR", l["level"])
						assert.Contains(t, l["reason"], tt.detail)
						assert.Contains(t, l, joblog.KeyJob)
						assert.Contains(t, l, joblog.KeyProcessInstance)
					}
					assert.Len(t, all, 2, "only the good records' outcomes")
				case lkFailOutcome:
					assert.False(t, failed["bad"])
					assert.Zero(t, runs.of(tt.badKey), "the handler never sees input it cannot take")
					require.Len(t, published[tt.badKey], 1)
					got := published[tt.badKey][0]
					assert.Equal(t, tt.outcome.ProcessInstanceKey, got.ProcessInstanceKey)
					assert.Equal(t, tt.outcome.Outcome, got.Outcome)
					assert.Equal(t, tt.outcome.Retries, got.Retries)
					assert.Equal(t, tt.outcome.RetryBackoffMs, got.RetryBackoffMs)
					assert.Contains(t, got.ErrorMessage, tt.detail)
					l := joblogtest.Line(t, badLines, tt.logs[0].msg)
					assert.Contains(t, l["error"], tt.detail)
					assert.Len(t, all, 3)
				case lkDropped:
					assert.False(t, failed["bad"], "a stale job is acknowledged")
					assert.Zero(t, runs.of(tt.badKey), "the handler must not run")
					assert.Empty(t, published[tt.badKey], "nothing is published")
					assert.Len(t, all, 2)
				case lkRun:
					for _, id := range badIDs {
						assert.False(t, failed[id])
					}
					assert.Equal(t, tt.runs, runs.of(tt.badKey))
					assert.Len(t, published[tt.badKey], tt.runs)
					assert.Len(t, all, 2+tt.runs)
				case lkInvokeError:
					require.Error(t, invokeErr)
					assert.Contains(t, invokeErr.Error(), tt.detail)
					assert.Zero(t, runs.of(0), "no direct run")
					for _, l := range lines {
						assert.Contains(t, l, "messageId", "only the good records log: %v", l["msg"])
					}
					if tt.goods == goodsHeldBack {
						assert.Empty(t, lines, "nothing of the refused event was started")
						assert.Empty(t, all)
					}
				}
				if dl != nil && tt.answer != lkReject {
					assert.Empty(t, dl.reasons, "nothing is dead-lettered")
				}
				for _, want := range tt.logs {
					var l map[string]any
					if want.msg == "" {
						// The attributes of the reject line(s).
						require.NotEmpty(t, badLines)
						l = badLines[len(badLines)-1]
					} else {
						l = joblogtest.Line(t, badLines, want.msg)
					}
					for k, v := range want.attrs {
						assert.Equal(t, v, l[k], "%s of %q", k, l["msg"])
					}
				}
			})
		}
	}
}
