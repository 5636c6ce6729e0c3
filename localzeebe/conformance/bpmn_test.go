package conformance

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// Reference §1.4, §4: none start and end events, CreateProcessInstanceWithResult.
func TestStartEndWithResult(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "start-end.bpmn")

	t.Run("all variables", func(t *testing.T) {
		t.Parallel()
		resp, vars := awaitResult(t, m.createWithResult(t, map[string]any{"a": 1, "b": "two"}))
		assert.Equal(t, map[string]any{"a": 1.0, "b": "two"}, vars)
		assert.Equal(t, m.pid, resp.GetBpmnProcessId())
		assert.EqualValues(t, 1, resp.GetVersion())
		assert.Equal(t, m.meta.GetProcessDefinitionKey(), resp.GetProcessDefinitionKey())
		assert.Positive(t, resp.GetProcessInstanceKey())
		assert.Equal(t, "<default>", resp.GetTenantId())
		if !external {
			pik := resp.GetProcessInstanceKey()
			assert.Subset(t, elementEvents(t, pik, "ELEMENT_COMPLETED"), []string{"Start", "End", m.pid})
		}
	})

	t.Run("fetchVariables", func(t *testing.T) {
		t.Parallel()
		_, vars := awaitResult(t, m.createWithResult(t, map[string]any{"a": 1, "b": 2, "c": 3}, "a", "c", "zzz"))
		assert.Equal(t, map[string]any{"a": 1.0, "c": 3.0}, vars)
	})

	t.Run("Go client WithResult", func(t *testing.T) {
		t.Parallel()
		cmd, err := zb.NewCreateInstanceCommand().BPMNProcessId(m.pid).LatestVersion().VariablesFromMap(map[string]any{"x": true})
		require.NoError(t, err)
		resp, err := cmd.WithResult().Send(ctxT(t, 15*time.Second))
		require.NoError(t, err)
		assert.JSONEq(t, `{"x":true}`, resp.GetVariables())
	})
}

// Reference §1.3 start instructions.
func TestStartInstructions(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "two-tasks.bpmn")

	t.Run("start at an element", func(t *testing.T) {
		t.Parallel()
		resp, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, Variables: `{"v":1}`,
			StartInstructions: []*pb.ProcessInstanceCreationStartInstruction{{ElementId: "Task_B"}}})
		require.NoError(t, err)
		b := awaitInstanceJob(t, m.typ("b"), resp.GetProcessInstanceKey())
		assert.Equal(t, map[string]any{"v": 1.0}, jobVars(t, b))
		noJob(t, m.jt, 0)
		completeJob(t, b.GetKey())
	})

	t.Run("unknown element", func(t *testing.T) {
		t.Parallel()
		_, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1,
			StartInstructions: []*pb.ProcessInstanceCreationStartInstruction{{ElementId: "Nowhere"}}})
		msg := statusMessage(t, err, codes.InvalidArgument)
		assert.Contains(t, msg, "Nowhere")
	})
}

// Reference §1.4: no result for an instance that does not complete.
func TestWithResultTimesOut(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "one-task.bpmn")
	start := time.Now()
	_, err := gw.CreateProcessInstanceWithResult(ctx15(t), &pb.CreateProcessInstanceWithResultRequest{
		Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1}, RequestTimeout: 1000})
	msg := statusMessage(t, err, codes.DeadlineExceeded)
	assert.True(t, strings.HasPrefix(msg, "Time out between gateway and broker: "), "message %q", msg)
	assert.GreaterOrEqual(t, time.Since(start), 950*time.Millisecond)
	assert.Less(t, time.Since(start), 5*time.Second, "the request timeout applies")
	completeJob(t, awaitJob(t, m.jt).GetKey()) // the instance exists and runs on
}

// Reference §4 exclusive gateway.
func TestExclusiveGateway(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "exclusive.bpmn")
	for _, tc := range []struct {
		name   string
		amount float64
		path   string
	}{
		{"first true condition in XML order", 150, "big"},
		{"second condition", 60, "mid"},
		{"default flow", 5, "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pik := m.create(t, map[string]any{"amount": tc.amount})
			// Other subtests share the model: pick this instance's job.
			j := awaitInstanceJob(t, m.typ(tc.path), pik)
			assert.Equal(t, map[string]any{"amount": tc.amount}, jobVars(t, j))
			completeJob(t, j.GetKey())
		})
	}
}

// awaitInstanceJob activates jobs of the type until the one of the instance
// comes; jobs of other instances are failed back with their retries.
func awaitInstanceJob(t *testing.T, jobType string, pik int64) *pb.ActivatedJob {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var mine *pb.ActivatedJob
		for _, j := range activate(t, act{typ: jobType, max: 10, poll: time.Second}) {
			if j.GetProcessInstanceKey() == pik && mine == nil {
				mine = j
				continue
			}
			// Every other job goes back, also those after ours in the
			// batch: a job kept activated would starve its own subtest.
			failJob(t, j.GetKey(), j.GetRetries(), "", 0, nil)
		}
		if mine != nil {
			return mine
		}
	}
	require.FailNow(t, fmt.Sprintf("no job of type %s for instance %d within 10 s", jobType, pik))
	return nil
}

// Reference §4 exclusive gateway incidents and §1.13 (resolving re-runs the step).
func TestExclusiveGatewayIncidents(t *testing.T) {
	t.Parallel()

	t.Run("no condition true and no default: CONDITION_ERROR", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "exclusive-no-default.bpmn")
		pik := m.create(t, map[string]any{"amount": 5})
		noJob(t, m.typ("big"), 500*time.Millisecond)
		noJob(t, m.typ("negative"), 0)
		needRecords(t)
		inc := incidentCreated(t, pik)
		t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
		assert.Equal(t, "CONDITION_ERROR", inc.V.ErrorType)
		assert.Equal(t, "Expected at least one condition to evaluate to true, or to have a default flow", inc.V.ErrorMessage)
		assert.Equal(t, "Gateway", inc.V.ElementID)
		assert.EqualValues(t, -1, inc.V.JobKey)
		setVariables(t, pik, map[string]any{"amount": 500}, false)
		require.NoError(t, resolveIncident(t, inc.Key))
		j := awaitJob(t, m.typ("big"))
		assert.Equal(t, pik, j.GetProcessInstanceKey())
		completeJob(t, j.GetKey())
	})

	t.Run("missing variable: EXTRACT_VALUE_ERROR", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "exclusive-no-default.bpmn")
		pik := m.create(t, map[string]any{"other": 1})
		noJob(t, m.typ("big"), 500*time.Millisecond)
		needRecords(t)
		inc := incidentCreated(t, pik)
		t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
		assert.Equal(t, "EXTRACT_VALUE_ERROR", inc.V.ErrorType)
		assert.Equal(t, "Gateway", inc.V.ElementID)
		assert.True(t, strings.HasPrefix(inc.V.ErrorMessage, "Expected result of the expression '"), "message: %q", inc.V.ErrorMessage)
		assert.Contains(t, inc.V.ErrorMessage, "amount > 100")
		assert.Contains(t, inc.V.ErrorMessage, "' to be 'BOOLEAN', but was 'NULL'.")
		assert.Contains(t, inc.V.ErrorMessage, "[NO_VARIABLE_FOUND]", "the FEEL warnings are part of the message")
		setVariables(t, pik, map[string]any{"amount": -3}, false)
		require.NoError(t, resolveIncident(t, inc.Key))
		j := awaitJob(t, m.typ("negative"))
		assert.Equal(t, pik, j.GetProcessInstanceKey())
		completeJob(t, j.GetKey())
	})
}

// Reference §4 parallel gateway.
func TestParallelGateway(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "parallel.bpmn")
	res := m.createWithResult(t, nil)
	a := awaitJob(t, m.typ("a"))
	b := awaitJob(t, m.typ("b"))
	complete(t, a.GetKey(), map[string]any{"fromA": 1})
	noJob(t, m.typ("c"), 500*time.Millisecond) // the join waits for both branches
	complete(t, b.GetKey(), map[string]any{"fromB": 2})
	c := awaitJob(t, m.typ("c"))
	assert.Equal(t, map[string]any{"fromA": 1.0, "fromB": 2.0}, jobVars(t, c))
	completeJob(t, c.GetKey())
	awaitResult(t, res)
	if !external {
		assert.Equal(t, 1, count(elementEvents(t, a.GetProcessInstanceKey(), "ELEMENT_COMPLETED"), "Join"), "the join completes once")
	}
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// Reference §4 error end event.
func TestErrorEndEventUncaught(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "error-end.bpmn")
	pik := m.create(t, nil)
	needRecords(t)
	inc := incidentCreated(t, pik)
	t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
	assert.Equal(t, "UNHANDLED_ERROR_EVENT", inc.V.ErrorType)
	assert.Equal(t, "End_Error", inc.V.ElementID)
	assert.Equal(t, "Expected to throw an error event with the code 'END_ERR', but it was not caught. No error events are available in the scope.", inc.V.ErrorMessage)
	assert.EqualValues(t, -1, inc.V.JobKey)
	assert.NotContains(t, elementEvents(t, pik, "ELEMENT_COMPLETED"), m.pid, "the instance does not complete")
	// Resolving re-runs the end event, which throws again: a new incident.
	require.NoError(t, resolveIncident(t, inc.Key))
	waitRecord(t, "INCIDENT RESOLVED", func(r *record) bool { return isEvent(r, "INCIDENT", "RESOLVED") && r.Key == inc.Key })
	again := waitRecord(t, "a new INCIDENT CREATED", func(r *record) bool {
		return isEvent(r, "INCIDENT", "CREATED") && r.V.ProcessInstanceKey == pik && r.Key != inc.Key
	})
	assert.Equal(t, "UNHANDLED_ERROR_EVENT", again.V.ErrorType)
	assert.Equal(t, "End_Error", again.V.ElementID)
}

// Reference §4.1 compensation.
func TestCompensation(t *testing.T) {
	t.Parallel()

	t.Run("throw compensates every completed activity", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "compensation.bpmn", "ACTIVITY_REF", "")
		res := m.createWithResult(t, nil)
		a := awaitJob(t, m.typ("a"))
		completeJob(t, a.GetKey())
		b := awaitJob(t, m.typ("b"))
		completeJob(t, b.GetKey())
		undoA := awaitJob(t, m.typ("undo-a"))
		undoB := awaitJob(t, m.typ("undo-b"))
		assert.Equal(t, "Undo_A", undoA.GetElementId())
		assert.Equal(t, "Undo_B", undoB.GetElementId())
		noJob(t, m.typ("after"), 0) // the throw event waits for its handlers
		completeJob(t, undoA.GetKey())
		noJob(t, m.typ("after"), 300*time.Millisecond)
		completeJob(t, undoB.GetKey())
		after := awaitJob(t, m.typ("after"))
		completeJob(t, after.GetKey())
		awaitResult(t, res)
		if !external {
			pik := a.GetProcessInstanceKey()
			activated := elementEvents(t, pik, "ELEMENT_ACTIVATED")
			assert.Less(t, indexOf(activated, "Undo_A"), indexOf(activated, "Undo_B"), "handlers in the order their activities completed: %v", activated)
			subs := findRecords(t, func(r *record) bool {
				return r.ValueType == "COMPENSATION_SUBSCRIPTION" && r.RecordType == "EVENT" && r.V.ProcessInstanceKey == pik
			})
			intents := map[string]int{}
			for _, r := range subs {
				intents[r.Intent]++
			}
			assert.Equal(t, 2, intents["CREATED"], "one subscription per completed activity: %v", intents)
			assert.Equal(t, 2, intents["TRIGGERED"], "%v", intents)
			assert.Equal(t, 2, intents["COMPLETED"], "%v", intents)
		}
	})

	t.Run("activityRef limits it to one activity", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "compensation.bpmn", "ACTIVITY_REF", `activityRef="Task_A"`)
		res := m.createWithResult(t, nil)
		completeJob(t, awaitJob(t, m.typ("a")).GetKey())
		completeJob(t, awaitJob(t, m.typ("b")).GetKey())
		undoA := awaitJob(t, m.typ("undo-a"))
		noJob(t, m.typ("after"), 0)
		completeJob(t, undoA.GetKey())
		after := awaitJob(t, m.typ("after"))
		noJob(t, m.typ("undo-b"), 0)
		completeJob(t, after.GetKey())
		awaitResult(t, res)
		if !external {
			assert.NotContains(t, elementEvents(t, undoA.GetProcessInstanceKey(), "ELEMENT_ACTIVATED"), "Undo_B")
		}
	})
}

// Reference §4.1: a compensation end event, and compensation with nothing to compensate.
func TestCompensationEndEvent(t *testing.T) {
	t.Parallel()
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	deployXML(t, pid+".bpmn", process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
		<bpmn:exclusiveGateway id="Gateway" default="F_Skip"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F_Do</bpmn:outgoing><bpmn:outgoing>F_Skip</bpmn:outgoing></bpmn:exclusiveGateway>
		<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`-a"/></bpmn:extensionElements><bpmn:incoming>F_Do</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
		<bpmn:boundaryEvent id="Compensate_A" attachedToRef="Task_A"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
		<bpmn:serviceTask id="Undo_A" isForCompensation="true"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`-undo-a"/></bpmn:extensionElements></bpmn:serviceTask>
		<bpmn:exclusiveGateway id="Merge"><bpmn:incoming>F2</bpmn:incoming><bpmn:incoming>F_Skip</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
		<bpmn:endEvent id="End_Compensate"><bpmn:incoming>F3</bpmn:incoming><bpmn:compensateEventDefinition/></bpmn:endEvent>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Gateway"/>
		<bpmn:sequenceFlow id="F_Do" sourceRef="Gateway" targetRef="Task_A"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">= do</bpmn:conditionExpression></bpmn:sequenceFlow>
		<bpmn:sequenceFlow id="F_Skip" sourceRef="Gateway" targetRef="Merge"/>
		<bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="Merge"/>
		<bpmn:sequenceFlow id="F3" sourceRef="Merge" targetRef="End_Compensate"/>
		<bpmn:association id="Association_A" associationDirection="One" sourceRef="Compensate_A" targetRef="Undo_A"/>`))
	m := model{pid: pid, jt: jt}

	t.Run("handlers run before the instance completes", func(t *testing.T) {
		t.Parallel()
		res := m.createWithResult(t, map[string]any{"do": true})
		completeJob(t, awaitJob(t, m.typ("a")).GetKey())
		undo := awaitJob(t, m.typ("undo-a"))
		select {
		case <-res:
			assert.Fail(t, "the instance completed before its compensation handler")
		case <-time.After(300 * time.Millisecond):
		}
		complete(t, undo.GetKey(), map[string]any{"undone": true})
		_, vars := awaitResult(t, res)
		assert.Equal(t, true, vars["undone"])
	})

	t.Run("nothing to compensate completes at once", func(t *testing.T) {
		t.Parallel()
		_, vars := awaitResult(t, m.createWithResult(t, map[string]any{"do": false}))
		assert.Equal(t, map[string]any{"do": false}, vars)
	})
}

// Reference §4.2: the output collection is not propagated when an interrupting boundary event fires.
func TestMultiInstanceInterrupted(t *testing.T) {
	t.Parallel()
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	deployXML(t, pid+".bpmn", process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
		<bpmn:serviceTask id="Task_MI"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`"/></bpmn:extensionElements>
			<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
			<bpmn:multiInstanceLoopCharacteristics isSequential="false"><bpmn:extensionElements>
				<zeebe:loopCharacteristics inputCollection="= items" inputElement="item" outputCollection="results" outputElement="= item * 2"/>
			</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>
		<bpmn:boundaryEvent id="Timer_Boundary" attachedToRef="Task_MI" cancelActivity="true"><bpmn:outgoing>F3</bpmn:outgoing>
			<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
		<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
		<bpmn:endEvent id="End_Timeout"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_MI"/>
		<bpmn:sequenceFlow id="F2" sourceRef="Task_MI" targetRef="End"/>
		<bpmn:sequenceFlow id="F3" sourceRef="Timer_Boundary" targetRef="End_Timeout"/>`))
	m := model{pid: pid, jt: jt}
	res := m.createWithResult(t, map[string]any{"items": []int{1, 2}})
	jobs := awaitJobs(t, act{typ: jt, max: 2}, 2)
	completeJob(t, jobs[0].GetKey()) // one inner instance done, one still running when the timer fires
	_, vars := awaitResult(t, res)
	assert.NotContains(t, vars, "results")
	assert.Equal(t, map[string]any{"items": []any{1.0, 2.0}}, vars)
	c := stateCommands[0]
	requireStatus(t, c.send(ctx15(t), jobs[1].GetKey()), codes.NotFound, notFoundJob(c, jobs[1].GetKey()))
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// Reference §4.2 multi-instance.
func TestMultiInstance(t *testing.T) {
	t.Parallel()

	t.Run("parallel", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "multi-instance.bpmn", "SEQUENTIAL", "false", "COMPLETION_CONDITION", "")
		res := m.createWithResult(t, map[string]any{"items": []int{10, 20, 30}})
		jobs := awaitJobs(t, act{typ: m.jt, max: 3}, 3) // all inner instances exist at once
		byItem := map[float64]*pb.ActivatedJob{}
		for _, j := range jobs {
			v := jobVars(t, j)
			item, _ := v["item"].(float64)
			byItem[item] = j
			assert.Equal(t, item/10, v["loopCounter"], "loopCounter starts at 1 and follows the collection")
			assert.Contains(t, v, "out")
			assert.Nil(t, v["out"])
		}
		require.Len(t, byItem, 3)
		for _, item := range []float64{30, 10, 20} { // completion order does not matter
			complete(t, byItem[item].GetKey(), map[string]any{"out": fmt.Sprintf("r%v", item)})
		}
		after := awaitJob(t, m.typ("after"))
		v := jobVars(t, after)
		assert.Equal(t, []any{"r10", "r20", "r30"}, v["results"], "outputCollection in collection order")
		for _, local := range []string{"item", "loopCounter", "out"} {
			assert.NotContains(t, v, local, "inner-instance variables stay local")
		}
		completeJob(t, after.GetKey())
		awaitResult(t, res)
	})

	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "multi-instance.bpmn", "SEQUENTIAL", "true", "COMPLETION_CONDITION", "")
		res := m.createWithResult(t, map[string]any{"items": []string{"x", "y", "z"}})
		for i, item := range []string{"x", "y", "z"} {
			j := awaitJob(t, m.jt)
			v := jobVars(t, j)
			assert.Equal(t, item, v["item"])
			assert.Equal(t, float64(i+1), v["loopCounter"])
			noJob(t, m.jt, 0) // one inner instance at a time
			complete(t, j.GetKey(), map[string]any{"out": strings.ToUpper(item)})
		}
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, []any{"X", "Y", "Z"}, jobVars(t, after)["results"])
		completeJob(t, after.GetKey())
		_, vars := awaitResult(t, res)
		assert.Equal(t, []any{"X", "Y", "Z"}, vars["results"])
	})

	t.Run("empty collection", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "multi-instance.bpmn", "SEQUENTIAL", "false", "COMPLETION_CONDITION", "")
		res := m.createWithResult(t, map[string]any{"items": []int{}})
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, []any{}, jobVars(t, after)["results"])
		noJob(t, m.jt, 0)
		completeJob(t, after.GetKey())
		_, vars := awaitResult(t, res)
		assert.Equal(t, []any{}, vars["results"])
	})
}

// Reference §4.2 completion condition and input collection type.
func TestMultiInstanceCompletionAndErrors(t *testing.T) {
	t.Parallel()

	t.Run("completionCondition terminates the remaining instances", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "multi-instance.bpmn", "SEQUENTIAL", "false", "COMPLETION_CONDITION",
			`<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">= numberOfCompletedInstances &gt;= 2</bpmn:completionCondition>`)
		res := m.createWithResult(t, map[string]any{"items": []int{10, 20, 30}})
		jobs := awaitJobs(t, act{typ: m.jt, max: 3}, 3)
		byItem := map[float64]*pb.ActivatedJob{}
		for _, j := range jobs {
			item, _ := jobVars(t, j)["item"].(float64)
			byItem[item] = j
		}
		require.Len(t, byItem, 3)
		complete(t, byItem[10].GetKey(), map[string]any{"out": "r10"})
		complete(t, byItem[20].GetKey(), map[string]any{"out": "r20"})
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, []any{"r10", "r20", nil}, jobVars(t, after)["results"], "the output collection starts as nulls")
		c := stateCommands[0]
		requireStatus(t, c.send(ctx15(t), byItem[30].GetKey()), codes.NotFound, notFoundJob(c, byItem[30].GetKey()))
		completeJob(t, after.GetKey())
		awaitResult(t, res)
	})

	t.Run("an input collection that is not an array", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "multi-instance.bpmn", "SEQUENTIAL", "false", "COMPLETION_CONDITION", "")
		pik := m.create(t, map[string]any{"items": "oops"})
		noJob(t, m.jt, 300*time.Millisecond)
		needRecords(t)
		inc := incidentCreated(t, pik)
		t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
		assert.Equal(t, "EXTRACT_VALUE_ERROR", inc.V.ErrorType)
		assert.Equal(t, "Task_MI", inc.V.ElementID)
		setVariables(t, pik, map[string]any{"items": []int{1}}, false)
		require.NoError(t, resolveIncident(t, inc.Key))
		completeJob(t, awaitJob(t, m.jt).GetKey())
		completeJob(t, awaitJob(t, m.typ("after")).GetKey())
	})
}

func publish(t *testing.T, name, key string, ttl time.Duration, id string, vars any) (*pb.PublishMessageResponse, error) {
	t.Helper()
	return gw.PublishMessage(ctx15(t), &pb.PublishMessageRequest{Name: name, CorrelationKey: key, TimeToLive: ttl.Milliseconds(), MessageId: id, Variables: jsonOf(t, vars)})
}

// Reference §1.15 and §4 message catch.
func TestMessageCatch(t *testing.T) {
	t.Parallel()

	t.Run("published before the subscription, buffered", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		resp, err := publish(t, m.msg, key, time.Minute, "", map[string]any{"paid": true})
		require.NoError(t, err)
		assert.Positive(t, resp.GetKey())
		assert.Equal(t, "<default>", resp.GetTenantId())
		res := m.createWithResult(t, map[string]any{"orderId": key})
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, true, jobVars(t, after)["paid"], "message variables propagate")
		completeJob(t, after.GetKey())
		awaitResult(t, res)
	})

	t.Run("published after the subscription opened", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		pik := m.create(t, map[string]any{"orderId": key})
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		afterElement(t, pik, "Catch_Message")
		noJob(t, m.typ("after"), 0)
		_, err := publish(t, m.msg, key, 0, "", map[string]any{"paid": "late"})
		require.NoError(t, err)
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, "late", jobVars(t, after)["paid"])
		completeJob(t, after.GetKey())
	})

	t.Run("ttl 0 is not buffered", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		pik := m.create(t, map[string]any{"orderId": key})
		_, err := publish(t, m.msg, key, 0, "", map[string]any{"early": true})
		require.NoError(t, err)
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		afterElement(t, pik, "Catch_Message")
		noJob(t, m.typ("after"), time.Second)
		_, err = publish(t, m.msg, key, 0, "", map[string]any{"second": true})
		require.NoError(t, err)
		after := awaitJob(t, m.typ("after"))
		v := jobVars(t, after)
		assert.NotContains(t, v, "early")
		assert.Equal(t, true, v["second"])
		completeJob(t, after.GetKey())
	})

	t.Run("a number correlation key matches its string", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		n := 4_000_000 + seq.Add(1)
		pik := m.create(t, map[string]any{"orderId": n})
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		afterElement(t, pik, "Catch_Message")
		_, err := publish(t, m.msg, fmt.Sprint(n), time.Minute, "", nil)
		require.NoError(t, err)
		completeJob(t, awaitJob(t, m.typ("after")).GetKey())
	})

	t.Run("one message correlates once per process", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		p1, p2 := m.create(t, map[string]any{"orderId": key}), m.create(t, map[string]any{"orderId": key})
		for _, j := range awaitJobs(t, act{typ: m.typ("before"), max: 2}, 2) {
			completeJob(t, j.GetKey())
		}
		afterElement(t, p1, "Catch_Message")
		afterElement(t, p2, "Catch_Message")
		_, err := publish(t, m.msg, key, time.Minute, "", nil)
		require.NoError(t, err)
		first := awaitJob(t, m.typ("after"))
		noJob(t, m.typ("after"), time.Second)
		_, err = publish(t, m.msg, key, 0, "", nil)
		require.NoError(t, err)
		second := awaitJob(t, m.typ("after"))
		assert.ElementsMatch(t, []int64{p1, p2}, []int64{first.GetProcessInstanceKey(), second.GetProcessInstanceKey()})
		completeJob(t, first.GetKey())
		completeJob(t, second.GetKey())
	})

	t.Run("buffered messages are taken first in, first out", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		for _, n := range []int{1, 2} {
			_, err := publish(t, m.msg, key, time.Minute, "", map[string]any{"n": n})
			require.NoError(t, err)
		}
		m.create(t, map[string]any{"orderId": key})
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, 1.0, jobVars(t, after)["n"])
		completeJob(t, after.GetKey())
	})

	t.Run("a buffered message correlates once per process", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		_, err := publish(t, m.msg, key, time.Minute, "", map[string]any{"n": 1})
		require.NoError(t, err)
		first := m.create(t, map[string]any{"orderId": key})
		completeJob(t, awaitInstanceJob(t, m.typ("before"), first).GetKey())
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, first, after.GetProcessInstanceKey())
		completeJob(t, after.GetKey())
		// A later instance of the same process does not get the same (still buffered) message.
		second := m.create(t, map[string]any{"orderId": key})
		completeJob(t, awaitInstanceJob(t, m.typ("before"), second).GetKey())
		afterElement(t, second, "Catch_Message")
		noJob(t, m.typ("after"), time.Second)
		_, err = publish(t, m.msg, key, 0, "", map[string]any{"n": 2})
		require.NoError(t, err)
		after = awaitJob(t, m.typ("after"))
		assert.Equal(t, second, after.GetProcessInstanceKey())
		assert.Equal(t, 2.0, jobVars(t, after)["n"])
		completeJob(t, after.GetKey())
	})

	t.Run("the subscription keeps the key it opened with", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		key := uniq(t, "order")
		pik := m.create(t, map[string]any{"orderId": key})
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		afterElement(t, pik, "Catch_Message")
		setVariables(t, pik, map[string]any{"orderId": key + "-changed"}, false)
		_, err := publish(t, m.msg, key+"-changed", 0, "", nil)
		require.NoError(t, err)
		noJob(t, m.typ("after"), 500*time.Millisecond)
		_, err = publish(t, m.msg, key, 0, "", nil)
		require.NoError(t, err)
		completeJob(t, awaitJob(t, m.typ("after")).GetKey())
	})

	t.Run("a correlation key of another type is an incident", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "message.bpmn")
		pik := m.create(t, map[string]any{"orderId": true})
		completeJob(t, awaitJob(t, m.typ("before")).GetKey())
		needRecords(t)
		inc := incidentCreated(t, pik)
		t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
		assert.Equal(t, "EXTRACT_VALUE_ERROR", inc.V.ErrorType)
		assert.Equal(t, "Catch_Message", inc.V.ElementID)
		assert.True(t, strings.HasPrefix(inc.V.ErrorMessage, "Failed to extract the correlation key for '"), "message %q", inc.V.ErrorMessage)
		assert.True(t, strings.HasSuffix(inc.V.ErrorMessage, "': The value must be either a string or a number, but was 'BOOLEAN'."), "message %q", inc.V.ErrorMessage)
		assert.Contains(t, inc.V.ErrorMessage, "orderId")
	})

	t.Run("a message id is unique while buffered", func(t *testing.T) {
		t.Parallel()
		name, key, id := uniq(t, "msg"), uniq(t, "key"), uniq(t, "id")
		_, err := publish(t, name, key, time.Minute, id, nil)
		require.NoError(t, err)
		_, err = publish(t, name, key, time.Minute, id, nil)
		requireStatus(t, err, codes.AlreadyExists, rejection("PUBLISH", "ALREADY_EXISTS",
			"Expected to publish a new message with id '%s', but a message with that id was already published", id))
		_, err = publish(t, name, key+"-other", time.Minute, id, nil)
		require.NoError(t, err, "uniqueness is per name and correlation key")
		_, err = publish(t, name+"-other", key, time.Minute, id, nil)
		require.NoError(t, err, "uniqueness is per name and correlation key")
	})
}

// Reference §4 timers.
func TestTimers(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct{ name, duration string }{
		{"intermediate timer PT1S", "PT1S"},
		{"intermediate timer from a FEEL duration", `= duration("PT" + string(secs) + "S")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, "timer.bpmn", "TIMER_DURATION", html.EscapeString(tc.duration))
			created := time.Now()
			res := m.createWithResult(t, map[string]any{"secs": 1})
			noJob(t, m.typ("after"), 300*time.Millisecond)
			after := awaitJob(t, m.typ("after"))
			assert.GreaterOrEqual(t, time.Since(created), 950*time.Millisecond, "never earlier than due")
			completeJob(t, after.GetKey())
			awaitResult(t, res)
			if !external {
				pik := after.GetProcessInstanceKey()
				waitRecord(t, "TIMER TRIGGERED", func(r *record) bool { return isEvent(r, "TIMER", "TRIGGERED") && r.V.ProcessInstanceKey == pik })
			}
		})
	}

	t.Run("a timer boundary is cancelled with its task", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "timer-boundary.bpmn")
		res := m.createWithResult(t, nil)
		completeJob(t, awaitJob(t, m.jt).GetKey())
		awaitResult(t, res)
		noJob(t, m.typ("timeout"), 1500*time.Millisecond)
	})

	t.Run("interrupting timer boundary PT1S", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "timer-boundary.bpmn")
		created := time.Now()
		res := m.createWithResult(t, nil)
		work := awaitJob(t, m.jt)
		timeout := awaitJob(t, m.typ("timeout"))
		assert.GreaterOrEqual(t, time.Since(created), 950*time.Millisecond)
		assert.Equal(t, work.GetProcessInstanceKey(), timeout.GetProcessInstanceKey())
		complete := stateCommands[0]
		requireStatus(t, complete.send(ctx15(t), work.GetKey()), codes.NotFound, notFoundJob(complete, work.GetKey()))
		completeJob(t, timeout.GetKey())
		awaitResult(t, res)
		if !external {
			jobEvent(t, work.GetKey(), "CANCELED")
		}
	})
}

// Reference §1.5.
func TestCancelProcessInstance(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "one-task.bpmn")
	notFound := func(key int64) string {
		return rejection("CANCEL", "NOT_FOUND", "Expected to cancel a process instance with key '%d', but no such process was found", key)
	}
	cancel := func(t *testing.T, key int64) error {
		t.Helper()
		_, err := gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: key})
		return err
	}

	t.Run("cancel an instance", func(t *testing.T) {
		t.Parallel()
		pik := m.create(t, nil)
		j := awaitInstanceJob(t, m.jt, pik)
		require.NoError(t, cancel(t, pik))
		complete := stateCommands[0]
		requireStatus(t, complete.send(ctx15(t), j.GetKey()), codes.NotFound, notFoundJob(complete, j.GetKey()))
		requireStatus(t, cancel(t, pik), codes.NotFound, notFound(pik))
		if !external {
			jobEvent(t, j.GetKey(), "CANCELED")
			waitRecord(t, "process ELEMENT_TERMINATED", func(r *record) bool {
				return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Key == pik
			})
		}
	})

	t.Run("an element instance is not a process instance", func(t *testing.T) {
		t.Parallel()
		pik := m.create(t, nil)
		j := awaitInstanceJob(t, m.jt, pik)
		requireStatus(t, cancel(t, j.GetElementInstanceKey()), codes.NotFound, notFound(j.GetElementInstanceKey()))
		require.NoError(t, cancel(t, pik))
	})

	t.Run("unknown key", func(t *testing.T) {
		t.Parallel()
		key := unknownKey()
		requireStatus(t, cancel(t, key), codes.NotFound, notFound(key))
	})

	t.Run("cancelling resolves the instance's incidents", func(t *testing.T) {
		t.Parallel()
		pik := m.create(t, nil)
		j := awaitInstanceJob(t, m.jt, pik)
		failJob(t, j.GetKey(), 0, "no luck", 0, nil)
		needRecords(t)
		inc := incidentCreated(t, pik)
		t.Logf("incident %s: %q", inc.V.ErrorType, inc.V.ErrorMessage)
		require.NoError(t, cancel(t, pik))
		waitRecord(t, "INCIDENT RESOLVED", func(r *record) bool { return isEvent(r, "INCIDENT", "RESOLVED") && r.Key == inc.Key })
		jobEvent(t, j.GetKey(), "CANCELED")
		requireStatus(t, resolveIncident(t, inc.Key), codes.NotFound,
			rejection("RESOLVE", "NOT_FOUND", "Expected to resolve incident with key '%d', but no such incident was found", inc.Key))
	})
}
