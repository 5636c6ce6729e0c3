package poller_test

// The bad-input table of the poller: every kind of activated job it cannot
// publish as it is, what it answers, and proof that the good jobs of the same
// activation are published exactly once regardless.
//
// Reused from poller_test.go: fakeZeebe, activation, fakePublisher,
// fakeRouter, job and cfg.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

// publishedCount counts the published job messages per job key.
func publishedCount(t *testing.T, p *fakePublisher) map[int64]int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := map[int64]int{}
	for _, m := range p.published {
		j, err := jobmsg.DecodeJob(m.Body)
		require.NoError(t, err)
		n[j.Key]++
	}
	return n
}

type pAnswer int

const (
	// pIncident: FailJob with retries 0, so that Zeebe raises an incident.
	pIncident pAnswer = iota
	// pHandBack: FailJob with the retries unchanged and FAIL_BACKOFF.
	pHandBack
	// pGone: Zeebe no longer knows the job: no FailJob, nothing published.
	pGone
	// pPublished: published all the same.
	pPublished
)

const (
	rejectedMsg = "job rejected; failing it without retries so that Zeebe raises an incident"
	handBackMsg = "handing the job back to Zeebe with retries unchanged"
)

// TestBadInputPoller activates every row's bad job between two good ones
// (keys 101 and 102, identifier "fn") in one activation, with a Router that
// routes "fn" only, unless the row says otherwise.
func TestBadInputPoller(t *testing.T) {
	t.Parallel()
	tooLarge := job(203, map[string]string{"identifier": "fn"})
	tooLarge.Variables = json.RawMessage(fmt.Sprintf(`{"x":%q}`, strings.Repeat("a", jobmsg.MaxMessageBytes)))
	rows := []struct {
		name      string
		bad       jobmsg.Job
		router    poller.Router
		updateErr error // UpdateJobTimeout's answer for the bad job
		publish   error // the publisher's answer for the bad job
		answer    pAnswer
		msgHas    []string // substrings of the FailJob message
		logMsg    string   // the line about the bad job
		logAttrs  map[string]any
		stats     poller.Stats
	}{
		{
			name:   "no identifier header",
			bad:    job(201, nil),
			answer: pIncident,
			msgHas: []string{`no "identifier" task header`, `task "Task_201" (element Task_201 of process p)`, `<zeebe:header key="identifier"`},
			logMsg: rejectedMsg, logAttrs: map[string]any{"level": "ERROR"},
			stats: poller.Stats{Activated: 3, Published: 2, Rejected: 1},
		},
		{
			name:   "empty identifier header",
			bad:    job(202, map[string]string{"identifier": ""}),
			answer: pIncident,
			msgHas: []string{`no "identifier" task header`, `"Task_202"`},
			logMsg: rejectedMsg,
			stats:  poller.Stats{Activated: 3, Published: 2, Rejected: 1},
		},
		{
			// The message says "exceeds the SNS limit of 256 KiB" (and "job
			// for job 203", an awkward phrase of jobmsg's size check).
			name:   "job too large for SNS",
			bad:    tooLarge,
			answer: pIncident,
			msgHas: []string{`task "Task_203"`, "message exceeds the SNS limit of 256 KiB", "pass less data to the task"},
			logMsg: rejectedMsg,
			stats:  poller.Stats{Activated: 3, Published: 2, Rejected: 1},
		},
		{
			name:   "identifier no subscription routes",
			bad:    job(204, map[string]string{"identifier": "not-deployed"}),
			answer: pIncident,
			msgHas: []string{"no function subscribed for the identifier", `lambdaIdentifier="not-deployed"`, "no subscription of arn:zeebe_jobs", `task "Task_204"`, "resolve the incident"},
			logMsg: rejectedMsg,
			stats:  poller.Stats{Activated: 3, Published: 2, Rejected: 1},
		},
		{
			// The listing of subscriptions failed: published as if the check
			// did not exist (fail open), with a warning.
			name:     "subscriptions cannot be listed",
			bad:      job(205, map[string]string{"identifier": "fn"}),
			router:   fakeRouter{err: errors.New("AccessDenied")},
			answer:   pPublished,
			logMsg:   "could not check that a function is subscribed for the job; publishing it anyway",
			logAttrs: map[string]any{"level": "WARN", "lambdaIdentifier": "fn", "error": "AccessDenied"},
			stats:    poller.Stats{Activated: 3, Published: 3},
		},
		{
			name:    "publish fails for one job of the batch",
			bad:     job(206, map[string]string{"identifier": "fn"}),
			publish: errors.New("sns: throttled"),
			answer:  pHandBack,
			msgHas:  []string{"zeebe-lambda-bridge poller: could not publish the job to SNS: sns: throttled"},
			logMsg:  handBackMsg, logAttrs: map[string]any{"level": "WARN", "retries": 3.0, "backoff": "2s"},
			stats: poller.Stats{Activated: 3, Published: 2, PublishFailed: 1},
		},
		{
			name:   "timeout header that is no ISO-8601 duration",
			bad:    job(207, map[string]string{"identifier": "fn", "timeout": "soon"}),
			answer: pIncident,
			msgHas: []string{`task "Task_207": task header "timeout"`, `"soon"`},
			logMsg: rejectedMsg,
			stats:  poller.Stats{Activated: 3, Published: 2, Rejected: 1},
		},
		{
			name:      "timeout header, engine rejects the update (INVALID_ARGUMENT)",
			bad:       job(208, map[string]string{"identifier": "fn", "timeout": "PT1M"}),
			updateErr: status.Error(codes.InvalidArgument, "bad timeout"),
			answer:    pIncident,
			msgHas:    []string{`task "Task_208": apply task header timeout=PT1M`, "InvalidArgument"},
			logMsg:    rejectedMsg,
			stats:     poller.Stats{Activated: 3, Published: 2, Rejected: 1},
		},
		{
			name:      "timeout header, engine unavailable for the update",
			bad:       job(209, map[string]string{"identifier": "fn", "timeout": "PT1M"}),
			updateErr: status.Error(codes.Unavailable, "gateway down"),
			answer:    pHandBack,
			msgHas:    []string{`zeebe-lambda-bridge poller: task "Task_209": apply task header timeout=PT1M`, "Unavailable"},
			logMsg:    handBackMsg, logAttrs: map[string]any{"retries": 3.0},
			stats: poller.Stats{Activated: 3, Published: 2, PublishFailed: 1},
		},
		{
			name:      "timeout header, job gone meanwhile (NOT_FOUND)",
			bad:       job(210, map[string]string{"identifier": "fn", "timeout": "PT1M"}),
			updateErr: status.Error(codes.NotFound, "no such job"),
			answer:    pGone,
			logMsg:    "job no longer known to Zeebe (timed out or cancelled meanwhile); not publishing it",
			logAttrs:  map[string]any{"level": "INFO"},
			stats:     poller.Stats{Activated: 3, Published: 2, Gone: 1},
		},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			good := []jobmsg.Job{job(101, map[string]string{"identifier": "fn"}), job(102, map[string]string{"identifier": "fn"})}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// One activation, then the run is cancelled: the hand-off of
			// what it activated still completes (see TestHandOffSurvivesCancellation).
			zb := &fakeZeebe{script: []activation{{jobs: []jobmsg.Job{good[0], tt.bad, good[1]}, before: cancel}}}
			if tt.updateErr != nil {
				zb.updateErr = map[int64]error{tt.bad.Key: tt.updateErr}
			}
			pub := &fakePublisher{}
			if tt.publish != nil {
				pub.failKeys = map[int64]bool{tt.bad.Key: true}
			}
			router := tt.router
			if router == nil {
				router = fakeRouter{known: map[string]bool{"fn": true}}
			}
			var buf joblogtest.Buffer
			st, err := poller.Run(ctx, cfg(), zb, pub, joblog.New(&buf, true), poller.WithRouter(router))
			require.NoError(t, err)
			assert.Equal(t, tt.stats, st)

			published := publishedCount(t, pub)
			fails := zb.failsByKey()
			// The good jobs: published exactly once, never failed.
			for _, g := range good {
				assert.Equal(t, 1, published[g.Key], "job %d published exactly once", g.Key)
				assert.NotContains(t, fails, g.Key, "job %d must not be failed", g.Key)
				l := joblogtest.Line(t, joblogtest.About(buf.Lines(t), joblog.KeyJob, float64(g.Key)), "job published")
				assert.Equal(t, float64(g.ProcessInstanceKey), l[joblog.KeyProcessInstance])
			}

			// The bad job.
			key := tt.bad.Key
			switch tt.answer {
			case pIncident, pHandBack:
				require.Contains(t, fails, key, "job %d must be failed", key)
				f := fails[key]
				assert.NoError(t, f.CtxErr, "failed on a live context")
				if tt.answer == pIncident {
					assert.Equal(t, int32(0), f.Retries, "retries 0: an incident")
					assert.Zero(t, f.Backoff)
				} else {
					assert.Equal(t, tt.bad.Retries, f.Retries, "retries unchanged: the function did not fail")
					assert.Equal(t, cfg().PublishBackoff, f.Backoff)
				}
				for _, s := range tt.msgHas {
					assert.Contains(t, f.Msg, s)
				}
				assert.Zero(t, published[key], "job %d must not be published", key)
			case pGone:
				assert.NotContains(t, fails, key)
				assert.Zero(t, published[key])
			case pPublished:
				assert.NotContains(t, fails, key)
				assert.Equal(t, 1, published[key])
			}
			assert.Len(t, zb.fails, len(fails), "one FailJob call at most per job")

			lines := joblogtest.About(buf.Lines(t), joblog.KeyJob, float64(key))
			l := joblogtest.Line(t, lines, tt.logMsg)
			assert.Equal(t, float64(tt.bad.ProcessInstanceKey), l[joblog.KeyProcessInstance])
			assert.Equal(t, tt.bad.ElementID, l["elementId"])
			for k, v := range tt.logAttrs {
				if s, ok := v.(string); ok && k == "error" {
					assert.Contains(t, l[k], s)
					continue
				}
				assert.Equal(t, v, l[k], "%s of %q", k, tt.logMsg)
			}
			if tt.answer == pIncident {
				assert.Equal(t, "ERROR", l["level"])
				assert.Equal(t, fails[key].Msg, l["error"], "the log line carries the incident's message")
			}
		})
	}
}
