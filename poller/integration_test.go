//go:build integration

package poller_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

// TestRunOnRealBroker runs one Lambda-style poller run against the local
// engine (ZEEBE_ADDRESS; `localstack/stack up` starts it) with a fake SNS
// publisher. testdata/tasks.bpmn forks into three tasks of a job type only
// this test uses: one with a timeout header, one without, and one without an
// identifier.
func TestRunOnRealBroker(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	id := zeebetest.UniqueID("poller-it")
	b, err := os.ReadFile(filepath.Join("testdata", "tasks.bpmn"))
	require.NoError(t, err)
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", []byte(strings.NewReplacer("PROCESS_ID", id, "JOB_TYPE", id).Replace(string(b))))
	pik := zeebetest.Start(t, zb.Zeebe(), id, map[string]any{"tripId": "t-1"})

	cfg := poller.Config{TopicARN: "arn:zeebe_jobs", JobType: id, JobTimeout: time.Minute, MaxJobsActive: 32,
		Worker: "poller-it", LongPoll: 2 * time.Second, SafetyMargin: time.Second, PublishBackoff: time.Second}
	pub := &fakePublisher{}
	deadline := time.Now().Add(5 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	st, err := poller.Run(ctx, cfg, zb, pub, joblog.Discard())
	require.NoError(t, err)
	assert.True(t, time.Now().Before(deadline), "Run must return before the deadline")
	assert.Equal(t, poller.Stats{Activated: 3, Published: 2, Rejected: 1}, st)

	byElement := map[string]jobmsg.Job{}
	for _, j := range pub.jobs(t) {
		assert.Equal(t, pik, j.ProcessInstanceKey)
		assert.Equal(t, "poller-it", j.Worker)
		assert.JSONEq(t, `{"tripId":"t-1"}`, string(j.Variables))
		byElement[j.ElementID] = j
	}
	require.Contains(t, byElement, "Task_Timeout")
	require.Contains(t, byElement, "Task_Plain")
	// The header's timeout, not JOB_TIMEOUT, set the deadline the message carries.
	assert.WithinDuration(t, start.Add(7*time.Minute), byElement["Task_Timeout"].DeadlineTime(), 15*time.Second)
	assert.WithinDuration(t, start.Add(time.Minute), byElement["Task_Plain"].DeadlineTime(), 15*time.Second)
	assert.Equal(t, "fn-timeout", byElement["Task_Timeout"].Identifier())

	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	// Zeebe applied the header's timeout.
	_, err = records.WaitFor(wctx, pik, func(r recordlog.Record) bool {
		return r.Is("JOB", "TIMEOUT_UPDATED") && r.Key == byElement["Task_Timeout"].Key
	})
	require.NoError(t, err)
	// The task without an identifier stopped on an incident that names it.
	inc, err := records.WaitFor(wctx, pik, func(r recordlog.Record) bool { return r.Is("INCIDENT", "CREATED") })
	require.NoError(t, err)
	assert.Equal(t, "Task_NoIdentifier", inc.Value.ElementID)
	assert.Equal(t, "JOB_NO_RETRIES", inc.Value.ErrorType)
	assert.Contains(t, inc.Value.ErrorMessage, `"Task_NoIdentifier"`)
	assert.Contains(t, inc.Value.ErrorMessage, `"identifier"`)

	// And a second run finds nothing: the published jobs are held by their
	// (long) timeouts, the rejected one by its incident.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	st2, err := poller.Run(ctx2, cfg, zb, &fakePublisher{}, joblog.Discard())
	require.NoError(t, err)
	assert.Equal(t, poller.Stats{}, st2)
}
