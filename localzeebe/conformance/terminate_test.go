package conformance

import (
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A terminate end event completes, then terminates the other element
// instances of its flow scope, then the scope completes: a subprocess takes
// its outgoing flow, the process ends; elements outside the scope go on
// (docs: terminate-events.md).
func TestTerminateEndEvent(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "terminate.bpmn")
	pik := m.create(t, nil)
	wait := awaitInstanceJob(t, m.typ("wait"), pik)
	subWait := awaitInstanceJob(t, m.typ("subwait"), pik)
	completeJob(t, awaitInstanceJob(t, m.typ("subgo"), pik).GetKey())
	after := awaitInstanceJob(t, m.typ("after"), pik)
	_, err := gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: subWait.GetKey()})
	require.Error(t, err, "the subprocess's other task was terminated with its job")
	completeJob(t, after.GetKey())

	needRecords(t)
	waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
	for _, id := range []string{"Sub_Terminate", "Terminate"} {
		typ, ev := elementTypes(t, elementKey(t, pik, id))
		assert.Equal(t, "END_EVENT", typ, id)
		assert.Equal(t, "TERMINATE", ev, id)
	}
	for _, j := range []int64{subWait.GetKey(), wait.GetKey()} {
		waitRecord(t, "JOB CANCELED", func(r *record) bool { return isEvent(r, "JOB", "CANCELED") && r.Key == j })
	}

	tests := []struct {
		name, from string
		want       []string
	}{
		{"in a subprocess", "S5", concat([]string{"EVENT S5 SEQUENCE_FLOW_TAKEN",
			"COMMAND Sub_Terminate ACTIVATE_ELEMENT", "EVENT Sub_Terminate ELEMENT_ACTIVATING", "EVENT Sub_Terminate ELEMENT_ACTIVATED",
			"EVENT Sub_Terminate ELEMENT_COMPLETING", "EVENT Sub_Terminate ELEMENT_COMPLETED",
			"COMMAND Sub_Wait TERMINATE_ELEMENT", "EVENT Sub_Wait ELEMENT_TERMINATING", "EVENT Sub_Wait ELEMENT_TERMINATED",
			"COMMAND Sub COMPLETE_ELEMENT", "EVENT Sub ELEMENT_COMPLETING", "EVENT Sub ELEMENT_COMPLETED",
			"EVENT F5 SEQUENCE_FLOW_TAKEN", "COMMAND Task_After ACTIVATE_ELEMENT"})},
		{"in the process", "F6", []string{"EVENT F6 SEQUENCE_FLOW_TAKEN",
			"COMMAND Terminate ACTIVATE_ELEMENT", "EVENT Terminate ELEMENT_ACTIVATING", "EVENT Terminate ELEMENT_ACTIVATED",
			"EVENT Terminate ELEMENT_COMPLETING", "EVENT Terminate ELEMENT_COMPLETED",
			"COMMAND Task_Wait TERMINATE_ELEMENT", "EVENT Task_Wait ELEMENT_TERMINATING", "EVENT Task_Wait ELEMENT_TERMINATED",
			"COMMAND PROCESS COMPLETE_ELEMENT", "EVENT PROCESS ELEMENT_COMPLETING", "EVENT PROCESS ELEMENT_COMPLETED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trace := instanceTrace(t, pik, m.pid, func(r *record) bool { return r.V.ElementID == tc.from })
			require.GreaterOrEqual(t, len(trace), len(tc.want))
			assert.Equal(t, tc.want, trace[:len(tc.want)])
		})
	}
}

// In a multi-instance subprocess a terminate end event ends only its own
// iteration (docs: terminate-events.md "Inside a subprocess").
func TestTerminateEndEventInMultiInstance(t *testing.T) {
	t.Parallel()
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	deployXML(t, pid+".bpmn", process(pid, `<bpmn:startEvent id="Start"/>
		<bpmn:subProcess id="Sub">
			<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="= [1, 2]" inputElement="item"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>
			<bpmn:startEvent id="Sub_Start"/><bpmn:parallelGateway id="Sub_Fork"/>
			<bpmn:serviceTask id="Sub_Wait"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`-wait"/></bpmn:extensionElements></bpmn:serviceTask>
			<bpmn:exclusiveGateway id="Sub_Choice" default="S5"/>
			<bpmn:endEvent id="Sub_Terminate"><bpmn:terminateEventDefinition/></bpmn:endEvent><bpmn:endEvent id="Sub_End"/>
			<bpmn:sequenceFlow id="S1" sourceRef="Sub_Start" targetRef="Sub_Fork"/><bpmn:sequenceFlow id="S2" sourceRef="Sub_Fork" targetRef="Sub_Wait"/>
			<bpmn:sequenceFlow id="S3" sourceRef="Sub_Fork" targetRef="Sub_Choice"/>
			<bpmn:sequenceFlow id="S4" sourceRef="Sub_Choice" targetRef="Sub_Terminate"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">= item = 1</bpmn:conditionExpression></bpmn:sequenceFlow>
			<bpmn:sequenceFlow id="S5" sourceRef="Sub_Choice" targetRef="Sub_End"/>
		</bpmn:subProcess>
		<bpmn:serviceTask id="Task_After"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`-after"/></bpmn:extensionElements></bpmn:serviceTask>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Sub"/><bpmn:sequenceFlow id="F2" sourceRef="Sub" targetRef="Task_After"/>`))
	resp, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
	require.NoError(t, err)
	pik := resp.GetProcessInstanceKey()
	wait := awaitInstanceJob(t, jt+"-wait", pik)
	assert.Equal(t, 2.0, jobVars(t, wait)["item"], "the first iteration's task was terminated; the second's waits")
	noJob(t, jt+"-wait", 0)
	noJob(t, jt+"-after", 0)
	completeJob(t, wait.GetKey())
	awaitInstanceJob(t, jt+"-after", pik)

	needRecords(t)
	body := elementKey(t, pik, "Sub")
	var inner []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.RecordType == "EVENT" && r.ValueType == "PROCESS_INSTANCE" && r.V.FlowScopeKey == body && r.V.BpmnElementType == "SUB_PROCESS" &&
			(r.Intent == "ELEMENT_COMPLETED" || r.Intent == "ELEMENT_TERMINATED")
	}) {
		inner = append(inner, r.Intent)
	}
	assert.Equal(t, []string{"ELEMENT_COMPLETED", "ELEMENT_COMPLETED"}, inner, "both iterations complete, the first through its terminate end event")
}
