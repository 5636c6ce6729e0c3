//go:build integration

package fulfiller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
)

// These tests drive the fulfiller against the real broker. Each deploys its
// own process with a job type of its own, so no other poller takes its jobs.

// processWithBoundary is a task of jobType with an error boundary event for
// errorCode leading to a second task of type jobType+"-handled".
func processWithBoundary(id, jobType, errorCode string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D_%[1]s" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:error id="Err" name="err" errorCode="%[3]s"/>
  <bpmn:process id="%[1]s" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="Task_Work">
      <bpmn:extensionElements><zeebe:taskDefinition type="%[2]s" retries="3"/>
        <zeebe:taskHeaders><zeebe:header key="identifier" value="work"/></zeebe:taskHeaders></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="End_Normal"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="Boundary_Error" attachedToRef="Task_Work"><bpmn:outgoing>F3</bpmn:outgoing><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>
    <bpmn:serviceTask id="Task_Handle">
      <bpmn:extensionElements><zeebe:taskDefinition type="%[2]s-handled"/></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="End_Error"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Work"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Work" targetRef="End_Normal"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Boundary_Error" targetRef="Task_Handle"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_Handle" targetRef="End_Error"/>
  </bpmn:process>
</bpmn:definitions>`, id, jobType, errorCode))
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
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", processWithBoundary(id, id, "BUSINESS_ERROR"))
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

	end, err := e.records.WaitEnd(wait(t), pik)
	require.NoError(t, err)
	require.NotNil(t, end.Incident, "the process must stop on an incident")
	assert.Equal(t, "Task_Work", end.Incident.Value.ElementID)
	assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
	assert.Equal(t, "attempt 3 failed", end.Incident.Value.ErrorMessage)

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
