//go:build integration

package fulfiller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// These tests drive the fulfiller against the local engine. Each deploys its
// own process with a job type of its own, so no other poller takes its jobs.

// model reads testdata/boundary.bpmn with its process id and job type
// replaced by processID and jobType.
func model(t *testing.T, processID, jobType string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "boundary.bpmn"))
	require.NoError(t, err)
	return []byte(strings.NewReplacer("PROCESS_ID", processID, "JOB_TYPE", jobType).Replace(string(b)))
}

type env struct {
	zb      *zeebeclient.Client
	records *recordlog.Log
	h       *fulfiller.Handler
	jobType string
}

func setup(t *testing.T) env {
	t.Helper()
	zb := zeebetest.Client(t)
	id := zeebetest.UniqueID("fulfiller-it")
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", model(t, id, id))
	return env{zb: zb, records: zeebetest.Records(t), h: fulfiller.New(zb, joblog.Discard()), jobType: id}
}

func (e env) start(t *testing.T) int64 {
	return zeebetest.Start(t, e.zb.Zeebe(), e.jobType, map[string]any{"n": 1})
}

// activate waits for one job of the given type.
func (e env) activate(t *testing.T, jobType string) jobmsg.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		jobs, err := e.zb.ActivateJobs(ctx, jobType, "it", 1, time.Minute, 5*time.Second)
		require.NoError(t, err)
		if len(jobs) == 1 {
			return jobs[0]
		}
	}
	t.Fatalf("no %s job became activatable within 30s", jobType)
	return jobmsg.Job{}
}

// waitIncident asserts that the instance stopped on an incident: its job is
// not handed out again, and the engine's record log shows the incident,
// which it returns.
func (e env) waitIncident(t *testing.T, pik int64) recordlog.Record {
	t.Helper()
	// A job with retries left would be activatable at once (the tests fail
	// with no backoff); a few seconds of nothing says it has none.
	// Each call long-polls a second with a context of its own: a call cut by
	// a shared deadline races the engine's DEADLINE_EXCEEDED against ctx.Err().
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		jobs, err := e.zb.ActivateJobs(ctx, e.jobType, "it", 10, time.Minute, time.Second)
		cancel()
		require.NoError(t, err)
		for _, j := range jobs {
			if j.ProcessInstanceKey == pik {
				t.Fatalf("job %d of instance %d was activatable again with %d retries: no incident", j.Key, pik, j.Retries)
			}
		}
	}
	end, err := e.records.WaitEnd(wait(t), pik)
	require.NoError(t, err)
	require.NotNil(t, end.Incident, "the process must stop on an incident")
	return *end.Incident
}

func (e env) deliver(t *testing.T, o jobmsg.Outcome) events.SQSEventResponse {
	t.Helper()
	m, err := jobmsg.EncodeOutcome(o)
	require.NoError(t, err)
	resp, err := e.h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(m.Body), EventSource: "aws:sqs"}}})
	require.NoError(t, err)
	return resp
}

func wait(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCompleteOnRealBroker(t *testing.T) {
	e := setup(t)
	pik := e.start(t)
	job := e.activate(t, e.jobType)
	assert.Equal(t, pik, job.ProcessInstanceKey)
	assert.Equal(t, "work", job.Identifier())

	resp := e.deliver(t, jobmsg.Outcome{JobKey: job.Key, ProcessInstanceKey: pik, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"result":"done"}`)})
	assert.Empty(t, resp.BatchItemFailures)

	end, err := e.records.WaitEnd(wait(t), pik)
	require.NoError(t, err)
	assert.True(t, end.Completed)
	assert.Equal(t, "End_Normal", end.EndEventID)
	recs, err := e.records.Instance(pik)
	require.NoError(t, err)
	assert.JSONEq(t, `"done"`, string(recordlog.Variables(recs)["result"]))
}

// TestFailCountsRetriesDownToAnIncident fails the job through the fulfiller
// with the retries lambdakit would send (job.retries-1) and checks that Zeebe
// hands it out with 3, 2 and 1 retries and then raises an incident.
func TestFailCountsRetriesDownToAnIncident(t *testing.T) {
	e := setup(t)
	pik := e.start(t)
	var seen []int32
	for i := 0; i < 3; i++ {
		job := e.activate(t, e.jobType)
		seen = append(seen, job.Retries)
		resp := e.deliver(t, jobmsg.Outcome{JobKey: job.Key, ProcessInstanceKey: pik, Outcome: jobmsg.Fail,
			Retries: job.Retries - 1, ErrorMessage: fmt.Sprintf("attempt %d failed", i+1)})
		assert.Empty(t, resp.BatchItemFailures)
	}
	assert.Equal(t, []int32{3, 2, 1}, seen, "retries must decrease on every failure")

	incident := e.waitIncident(t, pik)
	assert.Equal(t, "Task_Work", incident.Value.ElementID)
	assert.Equal(t, "JOB_NO_RETRIES", incident.Value.ErrorType)
	assert.Equal(t, "attempt 3 failed", incident.Value.ErrorMessage)

	recs, err := e.records.Instance(pik)
	require.NoError(t, err)
	var failed []int32
	for _, r := range recordlog.Jobs(recs) {
		if r.Intent == "FAILED" {
			failed = append(failed, r.Value.Retries)
		}
	}
	assert.Equal(t, []int32{2, 1, 0}, failed)
}

func TestThrowErrorIsCaughtByTheBoundaryEvent(t *testing.T) {
	e := setup(t)
	pik := e.start(t)
	job := e.activate(t, e.jobType)
	resp := e.deliver(t, jobmsg.Outcome{JobKey: job.Key, ProcessInstanceKey: pik, Outcome: jobmsg.Error,
		ErrorCode: "BUSINESS_ERROR", ErrorMessage: "not possible", Variables: json.RawMessage(`{"reason":"x"}`)})
	assert.Empty(t, resp.BatchItemFailures)

	// The boundary path's task becomes activatable: the error was caught.
	handled := e.activate(t, e.jobType+"-handled")
	assert.Equal(t, pik, handled.ProcessInstanceKey)
	assert.Equal(t, "Task_Handle", handled.ElementID)
	require.NoError(t, e.zb.CompleteJob(context.Background(), handled.Key, nil))

	end, err := e.records.WaitEnd(wait(t), pik)
	require.NoError(t, err)
	assert.True(t, end.Completed)
	assert.Equal(t, "End_Error", end.EndEventID)
}

func TestSecondCompletionIsNotFoundAndAcknowledged(t *testing.T) {
	e := setup(t)
	pik := e.start(t)
	job := e.activate(t, e.jobType)
	o := jobmsg.Outcome{JobKey: job.Key, ProcessInstanceKey: pik, Outcome: jobmsg.Complete}

	assert.Empty(t, e.deliver(t, o).BatchItemFailures)

	// The same outcome again, as an at-least-once queue may deliver it.
	err := e.zb.CompleteJob(context.Background(), job.Key, nil)
	require.Error(t, err)
	assert.Equal(t, fulfiller.Duplicate, fulfiller.Classify(err), "Zeebe answers NOT_FOUND: %v", err)
	assert.Empty(t, e.deliver(t, o).BatchItemFailures, "the fulfiller acknowledges a duplicate")

	end, err := e.records.WaitEnd(wait(t), pik)
	require.NoError(t, err)
	assert.True(t, end.Completed)
}
