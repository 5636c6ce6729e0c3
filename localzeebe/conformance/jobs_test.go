package conformance

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// jobCommand is one of the job commands that need an ACTIVATABLE or
// ACTIVATED job (reference §1.8–1.10).
type jobCommand struct {
	rpc, intent, verb string
	send              func(ctx context.Context, key int64) error
}

var stateCommands = []jobCommand{
	{"CompleteJob", "COMPLETE", "complete", func(ctx context.Context, key int64) error {
		_, err := gw.CompleteJob(ctx, &pb.CompleteJobRequest{JobKey: key})
		return err
	}},
	{"FailJob", "FAIL", "fail", func(ctx context.Context, key int64) error {
		_, err := gw.FailJob(ctx, &pb.FailJobRequest{JobKey: key, Retries: 1, ErrorMessage: "conformance"})
		return err
	}},
	{"ThrowError", "THROW_ERROR", "throw an error for", func(ctx context.Context, key int64) error {
		_, err := gw.ThrowError(ctx, &pb.ThrowErrorRequest{JobKey: key, ErrorCode: "E1"})
		return err
	}},
}

func notFoundJob(c jobCommand, key int64) string {
	return rejection(c.intent, "NOT_FOUND", "Expected to %s job with key '%d', but no such job was found", c.verb, key)
}

func wrongState(c jobCommand, key int64, state string) string {
	return rejection(c.intent, "INVALID_STATE", "Expected to %s job with key '%d', but it is in state '%s'", c.verb, key, state)
}

func notActive(key int64) string {
	return rejection("UPDATE_TIMEOUT", "INVALID_STATE", "Expected to update the timeout of job with key '%d', but it is not active", key)
}

func failJob(t *testing.T, key int64, retries int32, msg string, backoff time.Duration, vars any) {
	t.Helper()
	_, err := gw.FailJob(ctx15(t), &pb.FailJobRequest{JobKey: key, Retries: retries, ErrorMessage: msg, RetryBackOff: backoff.Milliseconds(), Variables: jsonOf(t, vars)})
	require.NoError(t, err, "fail job %d", key)
}

func resolveIncident(t *testing.T, key int64) error {
	t.Helper()
	_, err := gw.ResolveIncident(ctx15(t), &pb.ResolveIncidentRequest{IncidentKey: key})
	return err
}

func updateRetries(t *testing.T, key int64, retries int32) error {
	t.Helper()
	_, err := gw.UpdateJobRetries(ctx15(t), &pb.UpdateJobRetriesRequest{JobKey: key, Retries: retries})
	return err
}

func updateTimeout(t *testing.T, key int64, timeout time.Duration) error {
	t.Helper()
	_, err := gw.UpdateJobTimeout(ctx15(t), &pb.UpdateJobTimeoutRequest{JobKey: key, Timeout: timeout.Milliseconds()})
	return err
}

// Reference §1.6: the fields of an activated job.
func TestJobActivation(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "one-task.bpmn")
	vars := map[string]any{"a": 1, "b": "x", "c": map[string]any{"d": true}}

	t.Run("fields, deadline and variables snapshot", func(t *testing.T) {
		t.Parallel()
		pik := m.create(t, vars)
		jobType := m.jt
		var j *pb.ActivatedJob
		var before, after time.Time
		for deadline := time.Now().Add(10 * time.Second); j == nil && time.Now().Before(deadline); {
			before = time.Now()
			jobs := activate(t, act{typ: jobType, worker: "fields-worker", timeout: 30 * time.Second, poll: time.Second})
			after = time.Now()
			if len(jobs) > 0 {
				j = jobs[0]
			}
		}
		require.NotNil(t, j, "job of instance %d", pik)
		assert.Positive(t, j.GetKey())
		assertKey(t, j.GetKey())
		assert.Equal(t, jobType, j.GetType())
		assert.Equal(t, m.pid, j.GetBpmnProcessId())
		assert.EqualValues(t, 1, j.GetProcessDefinitionVersion())
		assert.Equal(t, m.meta.GetProcessDefinitionKey(), j.GetProcessDefinitionKey())
		assert.Equal(t, "Task_A", j.GetElementId())
		assert.Positive(t, j.GetElementInstanceKey())
		assert.NotEqual(t, pik, j.GetElementInstanceKey())
		assert.JSONEq(t, `{"method":"VISA","region":"eu"}`, j.GetCustomHeaders())
		assert.Equal(t, "fields-worker", j.GetWorker())
		assert.EqualValues(t, 3, j.GetRetries(), "retries default to 3")
		assert.Equal(t, "<default>", j.GetTenantId())
		assert.JSONEq(t, `{"a":1,"b":"x","c":{"d":true}}`, j.GetVariables())
		lo, hi := before.Add(30*time.Second-time.Second).UnixMilli(), after.Add(30*time.Second+time.Second).UnixMilli()
		assert.True(t, j.GetDeadline() >= lo && j.GetDeadline() <= hi,
			"deadline %d should be the activation time + 30 s, in [%d, %d]", j.GetDeadline(), lo, hi)
		complete(t, j.GetKey(), nil)
	})

	t.Run("fetchVariables", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		m.create(t, vars)
		j := awaitJobs(t, act{typ: m.jt, fetch: []string{"a", "c", "missing"}}, 1)[0]
		assert.JSONEq(t, `{"a":1,"c":{"d":true}}`, j.GetVariables(), "only the fetched variables; missing ones are absent")
		complete(t, j.GetKey(), nil)
	})

	t.Run("no headers and explicit retries", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "two-tasks.bpmn")
		m.create(t, nil)
		a := awaitJob(t, m.jt)
		assert.JSONEq(t, `{}`, a.GetCustomHeaders())
		assert.JSONEq(t, `{}`, a.GetVariables())
		complete(t, a.GetKey(), nil)
		b := awaitJob(t, m.typ("b"))
		assert.EqualValues(t, 5, b.GetRetries())
		complete(t, b.GetKey(), nil)
	})

	t.Run("type and retries expressions", func(t *testing.T) {
		t.Parallel()
		pid, jt := uniq(t, "p"), uniq(t, "jt")
		deployXML(t, pid+".bpmn", process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
			<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="= kind + &quot;-x&quot;" retries="= r + 1"/></bpmn:extensionElements>
				<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
			<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
			<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/><bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="End"/>`))
		model{pid: pid}.create(t, map[string]any{"kind": jt, "r": 3})
		j := awaitJob(t, jt+"-x")
		assert.EqualValues(t, 4, j.GetRetries())
		completeJob(t, j.GetKey())
	})

	t.Run("Go client activate and complete", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		res := m.createWithResult(t, map[string]any{"x": 1})
		ctx := ctxT(t, 10*time.Second)
		var jobs []int64
		for len(jobs) == 0 && ctx.Err() == nil {
			pollCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			got, err := zb.NewActivateJobsCommand().JobType(m.jt).MaxJobsToActivate(1).Timeout(time.Minute).WorkerName("go-client").Send(pollCtx)
			cancel()
			require.NoError(t, err)
			for _, j := range got {
				assert.Equal(t, "go-client", j.Worker)
				jobs = append(jobs, j.Key)
			}
		}
		require.Len(t, jobs, 1)
		cmd, err := zb.NewCompleteJobCommand().JobKey(jobs[0]).VariablesFromMap(map[string]any{"done": true})
		require.NoError(t, err)
		_, err = cmd.Send(ctx15(t))
		require.NoError(t, err)
		_, got := awaitResult(t, res)
		assert.Equal(t, map[string]any{"x": 1.0, "done": true}, got)
	})
}

// Reference §1.8–1.13 and §2.
func TestJobLifecycle(t *testing.T) {
	t.Parallel()

	t.Run("a completed job is gone", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		res := m.createWithResult(t, nil)
		j := awaitJob(t, m.jt)
		complete(t, j.GetKey(), map[string]any{"done": true})
		awaitResult(t, res)
		for _, c := range stateCommands {
			requireStatus(t, c.send(ctx15(t), j.GetKey()), codes.NotFound, notFoundJob(c, j.GetKey()))
		}
		requireStatus(t, updateRetries(t, j.GetKey(), 3), codes.NotFound,
			rejection("UPDATE_RETRIES", "NOT_FOUND", "Expected to update retries for job with key '%d', but no such job was found", j.GetKey()))
		requireStatus(t, updateTimeout(t, j.GetKey(), time.Minute), codes.NotFound,
			rejection("UPDATE_TIMEOUT", "NOT_FOUND", "Expected to update job deadline with key '%d', but no such job was found", j.GetKey()))
	})

	t.Run("fail with retries makes the job activatable again", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		m.create(t, nil)
		j := awaitJob(t, m.jt)
		failJob(t, j.GetKey(), 2, "try again", 0, nil)
		again := awaitJob(t, m.jt)
		assert.Equal(t, j.GetKey(), again.GetKey(), "the job key never changes")
		assert.EqualValues(t, 2, again.GetRetries(), "the retries the worker sent")
		if !external {
			r := jobEvent(t, j.GetKey(), "FAILED")
			assert.EqualValues(t, 2, r.V.Retries)
			assert.Equal(t, "try again", r.V.ErrorMessage)
		}
		complete(t, again.GetKey(), nil)
	})

	t.Run("fail with backoff", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		m.create(t, nil)
		j := awaitJob(t, m.jt)
		const backoff = 1500 * time.Millisecond
		failed := time.Now()
		failJob(t, j.GetKey(), 2, "later", backoff, nil)
		// During the backoff the job is in state FAILED.
		noJob(t, m.jt, 0)
		for _, c := range stateCommands {
			requireStatus(t, c.send(ctx15(t), j.GetKey()), codes.FailedPrecondition, wrongState(c, j.GetKey(), "FAILED"))
		}
		requireStatus(t, updateTimeout(t, j.GetKey(), time.Minute), codes.FailedPrecondition, notActive(j.GetKey()))
		require.NoError(t, updateRetries(t, j.GetKey(), 4), "UpdateJobRetries works in any state")
		require.Less(t, time.Since(failed), backoff, "the checks above must run within the backoff; they were too slow")
		again := awaitJob(t, m.jt)
		assert.GreaterOrEqual(t, time.Since(failed), backoff-100*time.Millisecond, "activatable only after the backoff")
		assert.Equal(t, j.GetKey(), again.GetKey())
		assert.EqualValues(t, 4, again.GetRetries())
		if !external {
			jobEvent(t, j.GetKey(), "RECURRED_AFTER_BACKOFF")
		}
		complete(t, again.GetKey(), nil)
	})

	for _, tc := range []struct{ name, msg, want string }{
		{"fail with no retries raises JOB_NO_RETRIES", "card declined", "card declined"},
		{"fail with no retries and no message", "", "No more retries left."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, "one-task.bpmn")
			res := m.createWithResult(t, nil)
			j := awaitJob(t, m.jt)
			failJob(t, j.GetKey(), 0, tc.msg, 0, nil)
			noJob(t, m.jt, 0)
			complete := stateCommands[0]
			requireStatus(t, complete.send(ctx15(t), j.GetKey()), codes.FailedPrecondition, wrongState(complete, j.GetKey(), "FAILED"))
			for _, retries := range []int32{0, -1} {
				requireStatus(t, updateRetries(t, j.GetKey(), retries), codes.InvalidArgument, rejection("UPDATE_RETRIES", "INVALID_ARGUMENT",
					"Expected to update retries for job with key '%d' with a positive amount of retries, but the amount given was '%d'", j.GetKey(), retries))
			}

			needRecords(t) // the incident key is only in the record log
			inc := incidentCreated(t, j.GetProcessInstanceKey())
			assert.Equal(t, "JOB_NO_RETRIES", inc.V.ErrorType)
			assert.Equal(t, tc.want, inc.V.ErrorMessage)
			assert.Equal(t, j.GetKey(), inc.V.JobKey)
			assert.Equal(t, "Task_A", inc.V.ElementID)
			assert.Equal(t, j.GetElementInstanceKey(), inc.V.ElementInstanceKey)
			assert.Equal(t, j.GetElementInstanceKey(), inc.V.VariableScopeKey)
			assert.Equal(t, m.pid, inc.V.BpmnProcessID)
			assert.Equal(t, m.meta.GetProcessDefinitionKey(), inc.V.ProcessDefinitionKey)
			assert.Equal(t, "<default>", inc.V.TenantID)

			requireStatus(t, resolveIncident(t, inc.Key), codes.NotFound, rejection("RESOLVE", "NOT_FOUND",
				"Expected to resolve incident with key '%d', but job with key '%d' has no retries left. Please update the job retries and retry resolving the incident",
				inc.Key, j.GetKey()))
			require.NoError(t, updateRetries(t, j.GetKey(), 2))
			noJob(t, m.jt, 0) // still FAILED until the incident is resolved
			require.NoError(t, resolveIncident(t, inc.Key))
			again := awaitJob(t, m.jt)
			assert.Equal(t, j.GetKey(), again.GetKey())
			assert.EqualValues(t, 2, again.GetRetries())
			waitRecord(t, "INCIDENT RESOLVED", func(r *record) bool { return isEvent(r, "INCIDENT", "RESOLVED") && r.Key == inc.Key })
			requireStatus(t, resolveIncident(t, inc.Key), codes.NotFound,
				rejection("RESOLVE", "NOT_FOUND", "Expected to resolve incident with key '%d', but no such incident was found", inc.Key))
			completeJob(t, again.GetKey())
			awaitResult(t, res)
		})
	}

	t.Run("a long error message is cut to 10 000 characters", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		m.create(t, nil)
		j := awaitJob(t, m.jt)
		failJob(t, j.GetKey(), 0, strings.Repeat("x", 12_000), 0, nil)
		needRecords(t)
		assert.Len(t, jobEvent(t, j.GetKey(), "FAILED").V.ErrorMessage, 10_000)
		assert.Len(t, incidentCreated(t, j.GetProcessInstanceKey()).V.ErrorMessage, 10_000)
	})

	t.Run("job timeout and a stale complete", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		res := m.createWithResult(t, nil)
		j := awaitJobs(t, act{typ: m.jt, worker: "slow", timeout: time.Second}, 1)[0]
		activated := time.Now()
		again := awaitJobs(t, act{typ: m.jt, worker: "fast"}, 1)[0]
		assert.GreaterOrEqual(t, time.Since(activated), 900*time.Millisecond, "not before the deadline")
		assert.Equal(t, j.GetKey(), again.GetKey())
		assert.EqualValues(t, 3, again.GetRetries(), "a timeout leaves the retries unchanged")
		assert.Equal(t, "fast", again.GetWorker())
		if !external {
			r := jobEvent(t, j.GetKey(), "TIMED_OUT")
			assert.EqualValues(t, 3, r.V.Retries)
		}
		// The first ("stale") worker completes first and wins; the second gets NOT_FOUND.
		complete(t, j.GetKey(), map[string]any{"by": "slow"})
		requireStatus(t, stateCommands[0].send(ctx15(t), again.GetKey()), codes.NotFound, notFoundJob(stateCommands[0], again.GetKey()))
		_, vars := awaitResult(t, res)
		assert.Equal(t, "slow", vars["by"])
	})

	t.Run("UpdateJobTimeout extends the deadline", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		m.create(t, nil)
		j := awaitJobs(t, act{typ: m.jt, timeout: time.Second}, 1)[0]
		require.NoError(t, updateTimeout(t, j.GetKey(), time.Minute))
		updated := time.Now()
		noJob(t, m.jt, 2500*time.Millisecond) // it would have timed out after 1 s
		if !external {
			r := jobEvent(t, j.GetKey(), "TIMEOUT_UPDATED")
			want := updated.Add(time.Minute).UnixMilli()
			assert.InDelta(t, want, r.V.Deadline, 2000, "deadline = now + timeout")
		}
		// Failing it (retries > 0, no backoff) makes it ACTIVATABLE: no longer active.
		failJob(t, j.GetKey(), 3, "", 0, nil)
		requireStatus(t, updateTimeout(t, j.GetKey(), time.Minute), codes.FailedPrecondition, notActive(j.GetKey()))
		again := awaitJob(t, m.jt)
		complete(t, again.GetKey(), nil)
	})

	t.Run("UpdateJobTimeout shortens the deadline", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		m.create(t, nil)
		j := awaitJobs(t, act{typ: m.jt, timeout: 10 * time.Minute}, 1)[0]
		require.NoError(t, updateTimeout(t, j.GetKey(), time.Second))
		again := awaitJob(t, m.jt)
		assert.Equal(t, j.GetKey(), again.GetKey(), "timed out after the new 1 s timeout")
		complete(t, again.GetKey(), nil)
	})

	t.Run("complete a job that was never activated", func(t *testing.T) {
		t.Parallel()
		needRecords(t) // the key of a job nobody activated is only in the record log
		m := deployModel(t, "two-tasks.bpmn")
		res := m.createWithResult(t, nil)
		created := waitRecord(t, "JOB CREATED for Task_A", func(r *record) bool {
			return isEvent(r, "JOB", "CREATED") && r.V.BpmnProcessID == m.pid && r.V.ElementID == "Task_A"
		})
		assert.Equal(t, m.jt, created.V.Type)
		assert.EqualValues(t, 3, created.V.Retries)
		complete(t, created.Key, map[string]any{"early": true})
		b := awaitJob(t, m.typ("b"))
		assert.Equal(t, true, jobVars(t, b)["early"])
		complete(t, b.GetKey(), nil)
		awaitResult(t, res)
	})
}

func completeJob(t *testing.T, key int64) { t.Helper(); complete(t, key, nil) }

// Reference §1.10, §2.4, §4.4.
func TestThrowError(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct{ name, code, path, other string }{
		{"caught by the boundary for its code", "E1", "e1", "any"},
		{"caught by the catch-all boundary", "SOMETHING_ELSE", "any", "e1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, "error-boundary.bpmn")
			res := m.createWithResult(t, map[string]any{"in": 1})
			j := awaitJob(t, m.jt)
			_, err := gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: j.GetKey(), ErrorCode: tc.code, ErrorMessage: "it broke", Variables: `{"fromError":true}`})
			require.NoError(t, err)
			h := awaitJob(t, m.typ(tc.path))
			assert.Equal(t, j.GetProcessInstanceKey(), h.GetProcessInstanceKey())
			hv := jobVars(t, h)
			assert.Equal(t, 1.0, hv["in"])
			assert.NotContains(t, hv, "fromError", "ThrowError variables are local to the error boundary event and not propagated")
			noJob(t, m.typ(tc.other), 0)
			noJob(t, m.jt, 0)
			complete := stateCommands[0]
			requireStatus(t, complete.send(ctx15(t), j.GetKey()), codes.NotFound, notFoundJob(complete, j.GetKey()))
			completeJob(t, h.GetKey())
			awaitResult(t, res)
			if !external {
				r := jobEvent(t, j.GetKey(), "ERROR_THROWN")
				assert.Equal(t, tc.code, r.V.ErrorCode)
				assert.Contains(t, elementEvents(t, j.GetProcessInstanceKey(), "ELEMENT_TERMINATED"), "Task_A")
				boundary := map[string]string{"e1": "Boundary_E1", "any": "Boundary_Any"}[tc.path]
				assert.Contains(t, elementEvents(t, j.GetProcessInstanceKey(), "ELEMENT_COMPLETED"), boundary)
				assert.NotContains(t, elementEvents(t, j.GetProcessInstanceKey(), "ELEMENT_COMPLETED"), "End")
			}
		})
	}

	t.Run("an error boundary with output mappings propagates them", func(t *testing.T) {
		t.Parallel()
		pid, jt := uniq(t, "p"), uniq(t, "jt")
		deployXML(t, pid+".bpmn", bpmnHeader+`<bpmn:error id="Error_E1" name="e1" errorCode="E1"/>
			<bpmn:process id="`+pid+`" isExecutable="true">
			<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
			<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`"/></bpmn:extensionElements>
				<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
			<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
			<bpmn:boundaryEvent id="Boundary_E1" attachedToRef="Task_A">
				<bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="= fromError" target="mapped"/></zeebe:ioMapping></bpmn:extensionElements>
				<bpmn:outgoing>F3</bpmn:outgoing><bpmn:errorEventDefinition errorRef="Error_E1"/></bpmn:boundaryEvent>
			<bpmn:serviceTask id="Task_E1"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`-e1"/></bpmn:extensionElements>
				<bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:serviceTask>
			<bpmn:endEvent id="End_E1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
			<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/><bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="End"/>
			<bpmn:sequenceFlow id="F3" sourceRef="Boundary_E1" targetRef="Task_E1"/><bpmn:sequenceFlow id="F4" sourceRef="Task_E1" targetRef="End_E1"/>
			</bpmn:process></bpmn:definitions>`)
		m := model{pid: pid, jt: jt}
		res := m.createWithResult(t, nil)
		j := awaitJob(t, jt)
		_, err := gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: j.GetKey(), ErrorCode: "E1", Variables: `{"fromError":7,"other":1}`})
		require.NoError(t, err)
		h := awaitJob(t, m.typ("e1"))
		assert.Equal(t, map[string]any{"mapped": 7.0}, jobVars(t, h))
		completeJob(t, h.GetKey())
		awaitResult(t, res)
	})

	for _, tc := range []struct{ name, file, code, msg, want string }{
		{"uncaught, no error events in scope", "one-task.bpmn", "E9", "it broke",
			"Expected to throw an error event with the code 'E9' with message 'it broke', but it was not caught. No error events are available in the scope."},
		{"uncaught, other codes available", "error-boundary-e1.bpmn", "E9", "",
			"Expected to throw an error event with the code 'E9', but it was not caught. Available error events are [E1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, tc.file)
			res := m.createWithResult(t, nil)
			j := awaitJob(t, m.jt)
			_, err := gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: j.GetKey(), ErrorCode: tc.code, ErrorMessage: tc.msg})
			require.NoError(t, err)
			noJob(t, m.jt, 0)
			noJob(t, m.typ("e1"), 0)
			for _, c := range stateCommands {
				requireStatus(t, c.send(ctx15(t), j.GetKey()), codes.FailedPrecondition, wrongState(c, j.GetKey(), "ERROR_THROWN"))
			}

			needRecords(t)
			inc := incidentCreated(t, j.GetProcessInstanceKey())
			assert.Equal(t, "UNHANDLED_ERROR_EVENT", inc.V.ErrorType)
			assert.Equal(t, tc.want, inc.V.ErrorMessage)
			assert.Equal(t, j.GetKey(), inc.V.JobKey)
			assert.Equal(t, "Task_A", inc.V.ElementID, "the real task id (not 8.5.4's NO_CATCH_EVENT_FOUND)")
			assert.Equal(t, j.GetElementInstanceKey(), inc.V.ElementInstanceKey)
			// Resolving it ignores the error and re-enables the job, retries unchanged.
			require.NoError(t, resolveIncident(t, inc.Key))
			again := awaitJob(t, m.jt)
			assert.Equal(t, j.GetKey(), again.GetKey())
			assert.EqualValues(t, 3, again.GetRetries())
			completeJob(t, again.GetKey())
			awaitResult(t, res)
		})
	}
}

// Reference §1.6 validation.
func TestActivateJobsValidation(t *testing.T) {
	t.Parallel()
	jobType := uniq(t, "jt")
	reason := func(format string, args ...any) string {
		return rejection("ACTIVATE", "INVALID_ARGUMENT", "Expected to activate job batch with "+format, args...)
	}
	for _, tc := range []struct {
		name string
		req  *pb.ActivateJobsRequest
		want string
	}{
		{"maxJobsToActivate 0", &pb.ActivateJobsRequest{Type: jobType, Worker: "w", Timeout: 1000, MaxJobsToActivate: 0, RequestTimeout: -1},
			reason("max jobs to activate to be greater than zero, but it was '%d'", 0)},
		{"maxJobsToActivate negative", &pb.ActivateJobsRequest{Type: jobType, Worker: "w", Timeout: 1000, MaxJobsToActivate: -2, RequestTimeout: -1},
			reason("max jobs to activate to be greater than zero, but it was '%d'", -2)},
		{"timeout 0", &pb.ActivateJobsRequest{Type: jobType, Worker: "w", Timeout: 0, MaxJobsToActivate: 1, RequestTimeout: -1},
			reason("timeout to be greater than zero, but it was '%d'", 0)},
		{"timeout negative", &pb.ActivateJobsRequest{Type: jobType, Worker: "w", Timeout: -5, MaxJobsToActivate: 1, RequestTimeout: -1},
			reason("timeout to be greater than zero, but it was '%d'", -5)},
		{"blank type", &pb.ActivateJobsRequest{Type: "", Worker: "w", Timeout: 1000, MaxJobsToActivate: 1, RequestTimeout: -1},
			reason("type to be present, but it was blank")},
		{"blank worker is accepted", &pb.ActivateJobsRequest{Type: jobType, Worker: "", Timeout: 1000, MaxJobsToActivate: 1, RequestTimeout: -1}, ""},
		{"default tenant is accepted", &pb.ActivateJobsRequest{Type: jobType, Worker: "w", Timeout: 1000, MaxJobsToActivate: 1, RequestTimeout: -1, TenantIds: []string{"<default>"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs, _, err := activateRaw(ctx15(t), tc.req)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Empty(t, jobs)
				return
			}
			requireStatus(t, err, codes.InvalidArgument, tc.want)
		})
	}
}

func TestActivateJobsOtherTenant(t *testing.T) {
	t.Parallel()
	_, _, err := activateRaw(ctx15(t), &pb.ActivateJobsRequest{Type: uniq(t, "jt"), Worker: "w", Timeout: 1000, MaxJobsToActivate: 1, RequestTimeout: -1, TenantIds: []string{"other"}})
	msg := statusMessage(t, err, codes.InvalidArgument)
	assert.Contains(t, msg, "with tenant identifier 'other', but multi-tenancy is disabled")
}

// Reference §1.6: each activatable job is activated by exactly one request.
func TestConcurrentActivation(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "one-task.bpmn")
	const instances, workers = 40, 6
	for range instances {
		m.create(t, nil)
	}
	seen := make(chan int64, instances*2)
	ctx := ctxT(t, 15*time.Second)
	done := make(chan struct{})
	var errs = make(chan error, workers)
	for range workers {
		go func() {
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				jobs, _, err := activateRaw(ctx, act{typ: m.jt, max: 4, poll: 500 * time.Millisecond}.request())
				if err != nil {
					errs <- err
					return
				}
				for _, j := range jobs {
					seen <- j.GetKey()
				}
			}
			errs <- nil
		}()
	}
	got := map[int64]int{}
	timeout := time.After(10 * time.Second)
	for len(got) < instances {
		select {
		case k := <-seen:
			got[k]++
		case <-timeout:
			require.FailNow(t, "not every job was activated", "%d of %d", len(got), instances)
		}
	}
	close(done)
	for range workers {
		require.NoError(t, <-errs)
	}
	close(seen)
	for k := range seen {
		got[k]++
	}
	for k, n := range got {
		assert.Equal(t, 1, n, "job %d activated %d times", k, n)
		completeJob(t, k)
	}
}

// Reference §4 service task: type and retries expressions are evaluated at activation.
func TestJobTypeExpressionIncident(t *testing.T) {
	t.Parallel()
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	deployXML(t, pid+".bpmn", process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
		<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="= kind"/></bpmn:extensionElements>
			<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
		<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/><bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="End"/>`))
	pik := model{pid: pid}.create(t, nil)
	needRecords(t)
	inc := incidentCreated(t, pik)
	t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
	assert.Equal(t, "EXTRACT_VALUE_ERROR", inc.V.ErrorType)
	assert.Equal(t, "Task_A", inc.V.ElementID)
	assert.EqualValues(t, -1, inc.V.JobKey)
	setVariables(t, pik, map[string]any{"kind": jt}, false)
	require.NoError(t, resolveIncident(t, inc.Key))
	completeJob(t, awaitJob(t, jt).GetKey())
}

// Reference §1.6 long polling.
func TestLongPolling(t *testing.T) {
	t.Parallel()

	t.Run("a parked request gets the job as soon as it is created", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		type result struct {
			jobs     []*pb.ActivatedJob
			messages int
			err      error
			at       time.Time
		}
		ch := make(chan result, 1)
		start := time.Now()
		ctx := ctxT(t, 10*time.Second)
		go func() {
			jobs, n, err := activateRaw(ctx, act{typ: m.jt, poll: 2 * time.Second}.request())
			ch <- result{jobs, n, err, time.Now()}
		}()
		time.Sleep(300 * time.Millisecond)
		created := time.Now()
		m.create(t, nil)
		r := <-ch
		require.NoError(t, r.err)
		require.Len(t, r.jobs, 1)
		assert.Equal(t, 1, r.messages)
		assert.Less(t, r.at.Sub(created), time.Second, "answered as soon as the job was created")
		assert.Less(t, r.at.Sub(start), 1800*time.Millisecond, "well before the 2 s request timeout")
		completeJob(t, r.jobs[0].GetKey())
	})

	t.Run("no job: empty after requestTimeout", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		jobs, n, err := activateRaw(ctx15(t), act{typ: uniq(t, "jt"), poll: 2 * time.Second}.request())
		elapsed := time.Since(start)
		require.NoError(t, err, "completed with OK")
		assert.Empty(t, jobs)
		assert.Zero(t, n, "no message at all")
		assert.GreaterOrEqual(t, elapsed, 1900*time.Millisecond)
		assert.Less(t, elapsed, 4*time.Second)
	})

	t.Run("requestTimeout -1 answers at once", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		jobs, n, err := activateRaw(ctx15(t), act{typ: uniq(t, "jt")}.request())
		require.NoError(t, err)
		assert.Empty(t, jobs)
		assert.Zero(t, n)
		assert.Less(t, time.Since(start), time.Second)
	})

	t.Run("requestTimeout 0 long-polls (default 10 s)", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		_, _, err := activateRaw(ctx, act{typ: uniq(t, "jt"), poll: pollDefault}.request())
		requireStatus(t, err, codes.DeadlineExceeded, "")
		assert.GreaterOrEqual(t, time.Since(start), 2400*time.Millisecond, "still parked when the client gave up")
	})

	t.Run("does not wait to fill maxJobsToActivate", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		first, second := m.create(t, nil), m.create(t, nil)
		if !external {
			jobCreated(t, first, "Task_A")
			jobCreated(t, second, "Task_A")
		} else {
			time.Sleep(time.Second)
		}
		start := time.Now()
		jobs := activate(t, act{typ: m.jt, max: 10, poll: 2 * time.Second})
		assert.Less(t, time.Since(start), time.Second)
		assert.Len(t, jobs, 2)
		for _, j := range jobs {
			completeJob(t, j.GetKey())
		}
	})

	t.Run("maxJobsToActivate, key order and one message", func(t *testing.T) {
		t.Parallel()
		needRecords(t) // to know that all three jobs exist before activating
		m := deployModel(t, "one-task.bpmn")
		var piks []int64
		for range 3 {
			pik := m.create(t, nil)
			piks = append(piks, pik)
			jobCreated(t, pik, "Task_A")
		}
		jobs, n, err := activateRaw(ctx15(t), act{typ: m.jt, max: 2}.request())
		require.NoError(t, err)
		require.Len(t, jobs, 2, "at most maxJobsToActivate")
		assert.Equal(t, 1, n, "one partition, one message")
		rest := activate(t, act{typ: m.jt, max: 10})
		require.Len(t, rest, 1)
		all := append(jobs, rest...)
		keys := []int64{all[0].GetKey(), all[1].GetKey(), all[2].GetKey()}
		assert.True(t, sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i] < keys[j] }), "activated in job-key order: %v", keys)
		assert.Equal(t, piks, []int64{all[0].GetProcessInstanceKey(), all[1].GetProcessInstanceKey(), all[2].GetProcessInstanceKey()})
		for _, j := range all {
			completeJob(t, j.GetKey())
		}
	})
}
