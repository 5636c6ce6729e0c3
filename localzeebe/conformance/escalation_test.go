package conformance

import (
	"encoding/json"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Escalations (docs: escalation-events.md): a throw event's escalation is
// caught by the nearest catch event upwards, a code before a catch-all: a
// non-interrupting boundary event starts beside its subprocess and the
// throw goes on; an interrupting one (here a catch-all, thrown by an end
// event) terminates the subprocess; an event subprocess catches one thrown
// in its scope. An uncaught escalation is only recorded (NOT_ESCALATED),
// with no incident, and the throw goes on.
func TestEscalations(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "escalation.bpmn")
	res := m.createWithResult(t, nil)
	inner := awaitJob(t, m.typ("inner"))
	pik := inner.GetProcessInstanceKey()
	note := awaitInstanceJob(t, m.typ("note"), pik)
	completeJob(t, inner.GetKey())
	top := awaitInstanceJob(t, m.typ("top"), pik)
	caught := awaitInstanceJob(t, m.typ("caught"), pik)
	for _, j := range []int64{note.GetKey(), top.GetKey(), caught.GetKey()} {
		completeJob(t, j)
	}
	resp, _ := awaitResult(t, res)
	assert.Equal(t, pik, resp.GetProcessInstanceKey())

	needRecords(t)
	type esc struct{ Intent, Code, Throw, Catch string }
	var got []esc
	for _, r := range findRecords(t, func(r *record) bool { return r.ValueType == "ESCALATION" && r.V.ProcessInstanceKey == pik }) {
		var v struct {
			EscalationCode string `json:"escalationCode"`
			ThrowElementID string `json:"throwElementId"`
			CatchElementID string `json:"catchElementId"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		got = append(got, esc{r.Intent, v.EscalationCode, v.ThrowElementID, v.CatchElementID})
	}
	assert.Equal(t, []esc{{"ESCALATED", "note", "Throw_Note", "Note"}, {"ESCALATED", "done", "End_Done", "Caught"},
		{"ESCALATED", "top", "Throw_Top", "Esp_Top_Start"}, {"NOT_ESCALATED", "nobody", "Throw_Nobody", ""}}, got)
	assert.Empty(t, findRecords(t, func(r *record) bool { return isEvent(r, "INCIDENT", "CREATED") && r.V.ProcessInstanceKey == pik }))

	tests := []struct {
		name, catch string
		want        []string
	}{
		{"a non-interrupting boundary event", "Note", []string{
			"EVENT ESCALATION ESCALATED ", "EVENT PROCESS_EVENT TRIGGERING Note", "EVENT PROCESS_EVENT TRIGGERED Note",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Note", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Note",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Note", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Throw_Note",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Throw_Note"}},
		{"an interrupting boundary event caught from an end event", "Caught", []string{
			"EVENT ESCALATION ESCALATED ", "EVENT PROCESS_EVENT TRIGGERING Caught",
			"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT Sub", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATING Sub",
			"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT End_Done", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATING End_Done",
			"EVENT PROCESS_INSTANCE ELEMENT_TERMINATED End_Done", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATED Sub",
			"EVENT PROCESS_EVENT TRIGGERED Caught", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Caught"}},
		{"a non-interrupting event subprocess", "Esp_Top_Start", []string{
			"EVENT ESCALATION ESCALATED ", "EVENT PROCESS_EVENT TRIGGERING Esp_Top_Start",
			"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Top", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Throw_Top",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Throw_Top", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Esp_Top"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := positionOf(t, tc.name, func(r *record) bool {
				return r.V.ProcessInstanceKey == pik && isEvent(r, "ESCALATION", "ESCALATED") && jsonField(t, r, "catchElementId") == tc.catch
			})
			assert.Equal(t, tc.want, recordsFrom(t, pik, from, len(tc.want)))
		})
	}
}

// jsonField reads one string field of a record's value.
func jsonField(t *testing.T, r *record, name string) string {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.Value, &v))
	s, _ := v[name].(string)
	return s
}

// An escalation a called process does not catch reaches the call
// activity's boundary events (docs: escalation-events.md); an interrupting
// one terminates the call activity, and with it the called instance.
func TestEscalationFromCalledProcess(t *testing.T) {
	t.Parallel()
	parent, child, jt := uniq(t, "p"), uniq(t, "c"), uniq(t, "jt")
	resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: parent + ".bpmn", Content: []byte(bpmnHeader +
		`<bpmn:escalation id="Esc_Up" escalationCode="up"/>
		<bpmn:process id="` + parent + `" isExecutable="true"><bpmn:startEvent id="Start"/>
			<bpmn:callActivity id="Call"><bpmn:extensionElements><zeebe:calledElement processId="` + child + `"/></bpmn:extensionElements></bpmn:callActivity>
			<bpmn:boundaryEvent id="Up" attachedToRef="Call"><bpmn:escalationEventDefinition escalationRef="Esc_Up"/></bpmn:boundaryEvent>
			<bpmn:serviceTask id="Task_Up"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/></bpmn:extensionElements></bpmn:serviceTask>
			<bpmn:endEvent id="End"/>
			<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Call"/><bpmn:sequenceFlow id="F2" sourceRef="Call" targetRef="End"/>
			<bpmn:sequenceFlow id="F3" sourceRef="Up" targetRef="Task_Up"/></bpmn:process>
		<bpmn:process id="` + child + `" isExecutable="true"><bpmn:startEvent id="Child_Start"/>
			<bpmn:intermediateThrowEvent id="Child_Throw"><bpmn:escalationEventDefinition escalationRef="Esc_Up"/></bpmn:intermediateThrowEvent>
			<bpmn:endEvent id="Child_End"/>
			<bpmn:sequenceFlow id="C1" sourceRef="Child_Start" targetRef="Child_Throw"/><bpmn:sequenceFlow id="C2" sourceRef="Child_Throw" targetRef="Child_End"/></bpmn:process>
		</bpmn:definitions>`)}}})
	require.NoError(t, err)
	require.Len(t, resp.GetDeployments(), 2)
	created, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: parent, Version: -1})
	require.NoError(t, err)
	pik := created.GetProcessInstanceKey()
	j := awaitInstanceJob(t, jt, pik)
	completeJob(t, j.GetKey())

	needRecords(t)
	ci := childInstance(t, pik)
	esc := waitRecord(t, "ESCALATED", func(r *record) bool { return isEvent(r, "ESCALATION", "ESCALATED") && r.V.ProcessInstanceKey == ci.Key })
	assert.Equal(t, [2]string{"Child_Throw", "Up"}, [2]string{jsonField(t, esc, "throwElementId"), jsonField(t, esc, "catchElementId")})
	assert.Equal(t, []string{"Child_Throw", ci.V.BpmnProcessID}, elementEvents(t, ci.Key, "ELEMENT_TERMINATED"),
		"the throw event ends with the called instance")
	assert.Equal(t, []string{"Child_Start"}, elementEvents(t, ci.Key, "ELEMENT_COMPLETED"), "the called instance does not go on")
	assert.Equal(t, []string{"Call"}, elementEvents(t, pik, "ELEMENT_TERMINATED"))
}
