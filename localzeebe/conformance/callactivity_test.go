package conformance

import (
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// callModels deploys call-activity.bpmn with the call activity's extra
// calledElement attributes and output mappings, and the process it calls.
func callModels(t *testing.T, calledAttrs, outputs string) (parent model, childID string) {
	t.Helper()
	parent = deployModel(t, "call-activity.bpmn", "CALLED_ATTRS", calledAttrs, "OUTPUTS", outputs)
	childID = parent.pid + "-child"
	deployXML(t, childID+".bpmn", render(t, "call-child.bpmn", "PROCESS_ID", childID, "JOB_TYPE", parent.jt))
	return parent, childID
}

// childInstance waits for the instance the call activity of pik created.
func childInstance(t *testing.T, pik int64) *record {
	t.Helper()
	return waitRecord(t, "the child instance activating", func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.BpmnElementType == "PROCESS" && r.V.ParentProcessInstKey == pik
	})
}

// A call activity creates an instance of the called process with the
// variables visible from it (its input mappings included), waits for it,
// and completes with its variables (docs: call-activities.md, "Variable
// mappings"): all of them by default, only the output mappings' otherwise.
func TestCallActivity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, attrs, outputs string
		childSees, afterSees map[string]any
	}{
		{name: "all variables both ways",
			childSees: map[string]any{"x": 1.0, "local": 2.0},
			afterSees: map[string]any{"x": 1.0, "childOut": "done", "other": 3.0}},
		{name: "only local variables in, only output mappings out",
			attrs:     `propagateAllParentVariables="false" propagateAllChildVariables="false"`,
			outputs:   `<zeebe:output source="= childOut" target="mapped"/>`,
			childSees: map[string]any{"local": 2.0},
			afterSees: map[string]any{"x": 1.0, "mapped": "done"}},
		{name: "output mappings limit what comes back",
			outputs:   `<zeebe:output source="= childOut" target="mapped"/>`,
			childSees: map[string]any{"x": 1.0, "local": 2.0},
			afterSees: map[string]any{"x": 1.0, "mapped": "done"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, childID := callModels(t, tc.attrs, tc.outputs)
			pik := m.create(t, map[string]any{"x": 1, "childId": childID})
			child := awaitJob(t, m.typ("child"))
			want := map[string]any{"childId": childID}
			for k, v := range tc.childSees {
				want[k] = v
			}
			if tc.attrs != "" {
				delete(want, "childId")
			}
			assert.Equal(t, want, jobVars(t, child))
			assert.Equal(t, childID, child.GetBpmnProcessId())
			complete(t, child.GetKey(), map[string]any{"childOut": "done", "other": 3})
			after := awaitInstanceJob(t, m.typ("after"), pik)
			want = map[string]any{"childId": childID}
			for k, v := range tc.afterSees {
				want[k] = v
			}
			assert.Equal(t, want, jobVars(t, after))
			completeJob(t, after.GetKey())

			needRecords(t)
			waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
			call := elementKey(t, pik, "Call")
			typ, ev := elementTypes(t, call)
			assert.Equal(t, "CALL_ACTIVITY", typ)
			assert.Equal(t, "UNSPECIFIED", ev)
			c := childInstance(t, pik)
			assert.Equal(t, call, c.V.ParentElementInstKey)
			assert.Equal(t, childID, c.V.BpmnProcessID)
			for _, r := range findRecords(t, func(r *record) bool {
				return r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == c.Key
			}) {
				assert.Equal(t, [2]int64{pik, call}, [2]int64{r.V.ParentProcessInstKey, r.V.ParentElementInstKey},
					"%s %s carries its parent's keys", r.V.ElementID, r.Intent)
			}
			for _, r := range findRecords(t, func(r *record) bool {
				return r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik
			}) {
				assert.Equal(t, [2]int64{-1, -1}, [2]int64{r.V.ParentProcessInstKey, r.V.ParentElementInstKey}, "the parent is a root instance")
			}

			// The parent's and the child's records around the call, in log order.
			var trace []string
			for _, r := range findRecords(t, func(r *record) bool {
				return r.ValueType == "PROCESS_INSTANCE" && ((r.V.ElementID == "Call" && r.V.ProcessInstanceKey == pik) || r.Key == c.Key)
			}) {
				trace = append(trace, r.RecordType+" "+r.V.BpmnElementType+" "+r.Intent)
			}
			assert.Equal(t, []string{
				"COMMAND CALL_ACTIVITY ACTIVATE_ELEMENT", "EVENT CALL_ACTIVITY ELEMENT_ACTIVATING",
				"COMMAND PROCESS ACTIVATE_ELEMENT", "EVENT CALL_ACTIVITY ELEMENT_ACTIVATED",
				"EVENT PROCESS ELEMENT_ACTIVATING", "EVENT PROCESS ELEMENT_ACTIVATED",
				"COMMAND PROCESS COMPLETE_ELEMENT", "EVENT PROCESS ELEMENT_COMPLETING", "EVENT PROCESS ELEMENT_COMPLETED",
				"COMMAND CALL_ACTIVITY COMPLETE_ELEMENT", "EVENT CALL_ACTIVITY ELEMENT_COMPLETING", "EVENT CALL_ACTIVITY ELEMENT_COMPLETED",
			}, trace)
		})
	}
}

// An error thrown in the called process and not caught there is caught by
// a boundary event of the call activity: the child instance is terminated,
// then the call activity, then the boundary event is activated. Cancelling
// the parent terminates the child; the child cannot be cancelled on its own.
func TestCallActivityInterrupted(t *testing.T) {
	t.Parallel()
	t.Run("error caught on the call activity", func(t *testing.T) {
		t.Parallel()
		m, _ := callModels(t, "", "")
		pik := m.create(t, map[string]any{"x": 1, "childId": m.pid + "-child"})
		child := awaitJob(t, m.typ("child"))
		_, err := gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: child.GetKey(), ErrorCode: "E1"})
		require.NoError(t, err)
		awaitInstanceJob(t, m.typ("error"), pik)

		needRecords(t)
		c := childInstance(t, pik)
		call := elementKey(t, pik, "Call")
		at := func(what string, match func(*record) bool) int64 { return positionOf(t, what, match) }
		taskDone := at("child task terminated", func(r *record) bool {
			return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.V.ProcessInstanceKey == c.Key && r.V.ElementID == "Task_Child"
		})
		childDone := at("child terminated", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Key == c.Key })
		callDone := at("call terminated", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Key == call })
		boundary := at("boundary activated", func(r *record) bool {
			return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ProcessInstanceKey == pik && r.V.ElementID == "Boundary_Error"
		})
		assert.Less(t, taskDone, childDone)
		assert.Less(t, childDone, callDone)
		assert.Less(t, callDone, boundary)
	})
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		m, _ := callModels(t, "", "")
		pik := m.create(t, map[string]any{"x": 1, "childId": m.pid + "-child"})
		child := awaitJob(t, m.typ("child"))
		_, err := gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: child.GetProcessInstanceKey()})
		requireStatus(t, err, codes.FailedPrecondition, rejection("CANCEL", "INVALID_STATE",
			"Expected to cancel a process instance with key '%d', but it is created by a parent process instance. Cancel the root process instance '%d' instead.",
			child.GetProcessInstanceKey(), pik))
		_, err = gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: pik})
		require.NoError(t, err)

		needRecords(t)
		at := func(what string, key int64) int64 {
			return positionOf(t, what, func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Key == key })
		}
		childDone := at("child terminated", child.GetProcessInstanceKey())
		callDone := at("call terminated", elementKey(t, pik, "Call"))
		parentDone := at("parent terminated", pik)
		assert.Less(t, childDone, callDone)
		assert.Less(t, callDone, parentDone)
		waitRecord(t, "the child's job canceled", func(r *record) bool { return isEvent(r, "JOB", "CANCELED") && r.Key == child.GetKey() })
	})
}

// A called process that is not deployed raises a CALLED_ELEMENT_ERROR
// incident on the call activity; deploying it and resolving the incident
// creates the child instance.
func TestCallActivityIncident(t *testing.T) {
	t.Parallel()
	m, childID := callModels(t, "", "")
	missing := childID + "-later"
	pik := m.create(t, map[string]any{"x": 1, "childId": missing})
	needRecords(t)
	inc := incidentCreated(t, pik)
	assert.Equal(t, "CALLED_ELEMENT_ERROR", inc.V.ErrorType)
	assert.Equal(t, "Expected process with BPMN process id '"+missing+"' to be deployed, but not found.", inc.V.ErrorMessage)
	assert.Equal(t, "Call", inc.V.ElementID)

	deployXML(t, missing+".bpmn", render(t, "call-child.bpmn", "PROCESS_ID", missing, "JOB_TYPE", m.jt+"-later"))
	require.NoError(t, resolveIncident(t, inc.Key))
	j := awaitJob(t, m.jt+"-later-child")
	assert.Equal(t, missing, j.GetBpmnProcessId())
}

// A called process ended by a terminate end event completes, and so does
// its call activity (docs: terminate-events.md "On the process scope").
func TestCallActivityChildTerminateEnd(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "call-activity.bpmn", "CALLED_ATTRS", "", "OUTPUTS", "")
	childID := m.pid + "-child"
	deployXML(t, childID+".bpmn", render(t, "call-child.bpmn", "PROCESS_ID", childID, "JOB_TYPE", m.jt,
		`<bpmn:endEvent id="Child_End"/>`, `<bpmn:endEvent id="Child_End"><bpmn:terminateEventDefinition/></bpmn:endEvent>`))
	pik := m.create(t, map[string]any{"x": 1, "childId": childID})
	complete(t, awaitJob(t, m.typ("child")).GetKey(), map[string]any{"childOut": "done"})
	after := awaitInstanceJob(t, m.typ("after"), pik)
	assert.Equal(t, "done", jobVars(t, after)["childOut"])

	needRecords(t)
	c := childInstance(t, pik)
	waitRecord(t, "the child completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == c.Key })
	typ, ev := elementTypes(t, elementKey(t, c.Key, "Child_End"))
	assert.Equal(t, [2]string{"END_EVENT", "TERMINATE"}, [2]string{typ, ev})
}
