package conformance

import (
	"fmt"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// instanceTrace lists the instance's PROCESS_INSTANCE records in log order
// as "EVENT|COMMAND elementId INTENT", the process's own id written PROCESS,
// starting at the first record for which from is true.
func instanceTrace(t *testing.T, pik int64, pid string, from func(*record) bool) []string {
	t.Helper()
	var out []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik && r.RecordType != "COMMAND_REJECTION"
	}) {
		if len(out) == 0 && !from(r) {
			continue
		}
		id := r.V.ElementID
		if id == pid {
			id = "PROCESS"
		}
		out = append(out, fmt.Sprintf("%s %s %s", r.RecordType, id, r.Intent))
	}
	return out
}

// lifecycle is an element's records from ACTIVATE_ELEMENT to ELEMENT_COMPLETED
// when nothing waits in between (start, end and pass-through elements).
func lifecycle(id string) []string {
	return []string{"COMMAND " + id + " ACTIVATE_ELEMENT", "EVENT " + id + " ELEMENT_ACTIVATING", "EVENT " + id + " ELEMENT_ACTIVATED",
		"COMMAND " + id + " COMPLETE_ELEMENT", "EVENT " + id + " ELEMENT_COMPLETING", "EVENT " + id + " ELEMENT_COMPLETED"}
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// An embedded subprocess is a scope: it activates its none start event,
// runs its inner flow with its input mappings as local variables, and
// completes when no token is left inside (docs: embedded-subprocesses.md
// "Variable mappings", "Completion").
func TestEmbeddedSubprocess(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "subprocess.bpmn")
	pik := m.create(t, map[string]any{"x": 1, "wait": "PT1H", "fail": false})
	inner := awaitInstanceJob(t, m.typ("inner"), pik)
	assert.Equal(t, map[string]any{"x": 1.0, "wait": "PT1H", "fail": false, "local": 2.0}, jobVars(t, inner),
		"the inner task sees the subprocess's local variables")
	complete(t, inner.GetKey(), map[string]any{"innerOut": "done"})
	after := awaitInstanceJob(t, m.typ("after"), pik)
	assert.Equal(t, map[string]any{"x": 1.0, "wait": "PT1H", "fail": false, "innerOut": "done", "total": 20.0}, jobVars(t, after),
		"output mappings read the subprocess scope; its local variables stay in it")
	completeJob(t, after.GetKey())

	needRecords(t)
	waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
	sub := elementKey(t, pik, "Sub")
	typ, ev := elementTypes(t, sub)
	assert.Equal(t, "SUB_PROCESS", typ)
	assert.Equal(t, "UNSPECIFIED", ev)
	for _, id := range []string{"Sub_Start", "Task_Inner", "Sub_Gateway", "Sub_End"} {
		r := waitRecord(t, id, func(r *record) bool {
			return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ProcessInstanceKey == pik && r.V.ElementID == id
		})
		assert.Equal(t, sub, r.V.FlowScopeKey, "%s runs in the subprocess", id)
	}
	scopes := map[string]int64{}
	for _, r := range findRecords(t, func(r *record) bool { return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik }) {
		scopes[r.V.Name] = r.V.ScopeKey
	}
	assert.Equal(t, map[string]int64{"x": pik, "wait": pik, "fail": pik, "local": sub, "innerOut": pik, "total": pik}, scopes)
	for _, intent := range []string{"CREATED", "CANCELED"} {
		timers := findRecords(t, func(r *record) bool { return isEvent(r, "TIMER", intent) && r.V.ProcessInstanceKey == pik })
		require.Len(t, timers, 1, "TIMER %s: the boundary timer lives as long as the subprocess", intent)
		assert.Equal(t, sub, timers[0].V.ElementInstanceKey)
	}

	trace := instanceTrace(t, pik, m.pid, func(r *record) bool { return r.V.ElementID == "F1" })
	want := concat([]string{"EVENT F1 SEQUENCE_FLOW_TAKEN",
		"COMMAND Sub ACTIVATE_ELEMENT", "EVENT Sub ELEMENT_ACTIVATING", "EVENT Sub ELEMENT_ACTIVATED"},
		lifecycle("Sub_Start"),
		[]string{"EVENT S1 SEQUENCE_FLOW_TAKEN",
			"COMMAND Task_Inner ACTIVATE_ELEMENT", "EVENT Task_Inner ELEMENT_ACTIVATING", "EVENT Task_Inner ELEMENT_ACTIVATED",
			"COMMAND Task_Inner COMPLETE_ELEMENT", "EVENT Task_Inner ELEMENT_COMPLETING", "EVENT Task_Inner ELEMENT_COMPLETED",
			"EVENT S2 SEQUENCE_FLOW_TAKEN",
			"COMMAND Sub_Gateway ACTIVATE_ELEMENT", "EVENT Sub_Gateway ELEMENT_ACTIVATING", "EVENT Sub_Gateway ELEMENT_ACTIVATED",
			"EVENT Sub_Gateway ELEMENT_COMPLETING", "EVENT Sub_Gateway ELEMENT_COMPLETED",
			"EVENT S3 SEQUENCE_FLOW_TAKEN"},
		[]string{"COMMAND Sub_End ACTIVATE_ELEMENT", "EVENT Sub_End ELEMENT_ACTIVATING", "EVENT Sub_End ELEMENT_ACTIVATED",
			"EVENT Sub_End ELEMENT_COMPLETING", "EVENT Sub_End ELEMENT_COMPLETED"}, // an end event completes at once
		[]string{"COMMAND Sub COMPLETE_ELEMENT", "EVENT Sub ELEMENT_COMPLETING", "EVENT Sub ELEMENT_COMPLETED",
			"EVENT F2 SEQUENCE_FLOW_TAKEN", "COMMAND Task_After ACTIVATE_ELEMENT"})
	require.GreaterOrEqual(t, len(trace), len(want))
	assert.Equal(t, want, trace[:len(want)])
}

// Boundary events on a subprocess interrupt it: the subprocess is
// terminating, its inner elements are terminated, then the subprocess, then
// the boundary event is activated (docs: embedded-subprocesses.md; error and
// timer events pages).
func TestEmbeddedSubprocessInterrupted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		vars     map[string]any
		trigger  func(t *testing.T, m model, inner *pb.ActivatedJob)
		waiting  string // the inner element terminated with the subprocess
		boundary string
		next     string // the job after the boundary event
	}{
		{name: "an error thrown by an inner job", vars: map[string]any{"x": 1, "wait": "PT1H"}, waiting: "Task_Inner", boundary: "Boundary_Error", next: "error",
			trigger: func(t *testing.T, _ model, inner *pb.ActivatedJob) {
				_, err := gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: inner.GetKey(), ErrorCode: "E1"})
				require.NoError(t, err)
			}},
		{name: "an error end event inside", vars: map[string]any{"x": 1, "wait": "PT1H"}, waiting: "Sub_Error_End", boundary: "Boundary_Error", next: "error",
			trigger: func(t *testing.T, _ model, inner *pb.ActivatedJob) {
				complete(t, inner.GetKey(), map[string]any{"fail": true})
			}},
		{name: "an interrupting timer", vars: map[string]any{"x": 1, "wait": "PT1S"}, waiting: "Task_Inner", boundary: "Boundary_Timer", next: "timeout",
			trigger: func(*testing.T, model, *pb.ActivatedJob) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, "subprocess.bpmn")
			pik := m.create(t, tc.vars)
			inner := awaitInstanceJob(t, m.typ("inner"), pik)
			tc.trigger(t, m, inner)
			next := awaitInstanceJob(t, m.typ(tc.next), pik)
			completeJob(t, next.GetKey())
			if tc.waiting == "Task_Inner" {
				_, err := gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: inner.GetKey()})
				requireStatus(t, err, codes.NotFound, "")
			}
			noJob(t, m.typ("after"), 0)

			needRecords(t)
			waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
			trace := instanceTrace(t, pik, m.pid, func(r *record) bool { return r.V.ElementID == "Sub" && r.Intent == "ELEMENT_TERMINATING" })
			want := []string{"EVENT Sub ELEMENT_TERMINATING",
				"COMMAND " + tc.waiting + " TERMINATE_ELEMENT", "EVENT " + tc.waiting + " ELEMENT_TERMINATING", "EVENT " + tc.waiting + " ELEMENT_TERMINATED",
				"EVENT Sub ELEMENT_TERMINATED",
				"EVENT " + tc.boundary + " ELEMENT_ACTIVATING", "EVENT " + tc.boundary + " ELEMENT_ACTIVATED",
				"COMMAND " + tc.boundary + " COMPLETE_ELEMENT", "EVENT " + tc.boundary + " ELEMENT_COMPLETING", "EVENT " + tc.boundary + " ELEMENT_COMPLETED"}
			require.GreaterOrEqual(t, len(trace), len(want))
			assert.Equal(t, want, trace[:len(want)])
			sub := elementKey(t, pik, "Sub")
			timerEnd := "CANCELED"
			if tc.boundary == "Boundary_Timer" {
				timerEnd = "TRIGGERED"
			}
			assert.Len(t, findRecords(t, func(r *record) bool {
				return isEvent(r, "TIMER", timerEnd) && r.V.ElementInstanceKey == sub
			}), 1, "TIMER %s", timerEnd)
		})
	}
}

// A multi-instance subprocess runs its inner flow once per item, each
// instance a scope with its own input element (reference §4.2: the
// multi-instance markers of 8.5 include the embedded subprocess).
func TestMultiInstanceSubprocess(t *testing.T) {
	t.Parallel()
	for _, sequential := range []bool{false, true} {
		t.Run(fmt.Sprintf("sequential=%v", sequential), func(t *testing.T) {
			t.Parallel()
			pid, jt := uniq(t, "p"), uniq(t, "jt")
			xml := process(pid, `<bpmn:startEvent id="Start"/>
				<bpmn:subProcess id="Sub">
					<bpmn:multiInstanceLoopCharacteristics isSequential="`+fmt.Sprint(sequential)+`"><bpmn:extensionElements>
						<zeebe:loopCharacteristics inputCollection="= items" inputElement="item" outputCollection="results" outputElement="= doubled"/>
					</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>
					<bpmn:startEvent id="Sub_Start"/>
					<bpmn:serviceTask id="Work"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`"/>
						<zeebe:ioMapping><zeebe:output source="= item * 2" target="doubled"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>
					<bpmn:endEvent id="Sub_End"/>
					<bpmn:sequenceFlow id="S1" sourceRef="Sub_Start" targetRef="Work"/><bpmn:sequenceFlow id="S2" sourceRef="Work" targetRef="Sub_End"/>
				</bpmn:subProcess>
				<bpmn:endEvent id="End"/>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Sub"/><bpmn:sequenceFlow id="F2" sourceRef="Sub" targetRef="End"/>`)
			m := model{pid: pid, jt: jt, meta: deployXML(t, pid+".bpmn", xml)}
			res := m.createWithResult(t, map[string]any{"items": []int{1, 2, 3}})
			seen := map[float64]bool{}
			for range 3 {
				j := awaitJob(t, jt)
				item, ok := jobVars(t, j)["item"].(float64)
				require.True(t, ok, "item in %v", jobVars(t, j))
				seen[item] = true
				completeJob(t, j.GetKey())
			}
			assert.Equal(t, map[float64]bool{1: true, 2: true, 3: true}, seen)
			resp, vars := awaitResult(t, res)
			assert.Equal(t, []any{2.0, 4.0, 6.0}, vars["results"])

			needRecords(t)
			pik := resp.GetProcessInstanceKey()
			bodies := findRecords(t, func(r *record) bool {
				return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ProcessInstanceKey == pik && r.V.ElementID == "Sub"
			})
			require.Len(t, bodies, 4, "the body and three inner instances")
			assert.Equal(t, "MULTI_INSTANCE_BODY", bodies[0].V.BpmnElementType)
			for _, in := range bodies[1:] {
				assert.Equal(t, "SUB_PROCESS", in.V.BpmnElementType)
				assert.Equal(t, bodies[0].Key, in.V.FlowScopeKey)
			}
		})
	}
}

// Start instructions inside a subprocess would need the subprocess activated
// around them; the local engine refuses them rather than run them wrongly.
func TestStartInstructionInsideSubprocess(t *testing.T) {
	t.Parallel()
	localOnly(t, "start instructions inside a subprocess")
	m := deployModel(t, "subprocess.bpmn")
	_, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1,
		StartInstructions: []*pb.ProcessInstanceCreationStartInstruction{{ElementId: "Task_Inner"}}})
	msg := statusMessage(t, err, codes.InvalidArgument)
	assert.Contains(t, msg, "'Task_Inner' is inside the subprocess 'Sub'")
}

// Cancelling the instance terminates the subprocess's inner elements, then
// the subprocess, then the process.
func TestCancelInstanceInSubprocess(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "subprocess.bpmn")
	pik := m.create(t, map[string]any{"x": 1, "wait": "PT1H"})
	inner := awaitInstanceJob(t, m.typ("inner"), pik)
	_, err := gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: pik})
	require.NoError(t, err)
	_, err = gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: inner.GetKey()})
	requireStatus(t, err, codes.NotFound, "")

	needRecords(t)
	waitRecord(t, "the instance terminated", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Key == pik })
	var ended []string
	for _, r := range findRecords(t, func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.V.ProcessInstanceKey == pik
	}) {
		ended = append(ended, r.V.ElementID)
	}
	assert.Equal(t, []string{"Task_Inner", "Sub", m.pid}, ended)
}

// Subprocesses nest, and an error thrown deep inside is caught by the
// nearest boundary event up the scopes: here the multi-instance body's.
func TestNestedSubprocessError(t *testing.T) {
	t.Parallel()
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	xml := bpmnHeader + `<bpmn:error id="Err" errorCode="DEEP"/><bpmn:process id="` + pid + `" isExecutable="true">
		<bpmn:startEvent id="Start"/>
		<bpmn:subProcess id="Outer">
			<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
				<zeebe:loopCharacteristics inputCollection="= [1, 2]" inputElement="i"/>
			</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>
			<bpmn:startEvent id="Outer_Start"/>
			<bpmn:subProcess id="Inner">
				<bpmn:startEvent id="Inner_Start"/>
				<bpmn:serviceTask id="Work"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/></bpmn:extensionElements></bpmn:serviceTask>
				<bpmn:endEvent id="Inner_End"/>
				<bpmn:sequenceFlow id="I1" sourceRef="Inner_Start" targetRef="Work"/><bpmn:sequenceFlow id="I2" sourceRef="Work" targetRef="Inner_End"/>
			</bpmn:subProcess>
			<bpmn:endEvent id="Outer_End"/>
			<bpmn:sequenceFlow id="O1" sourceRef="Outer_Start" targetRef="Inner"/><bpmn:sequenceFlow id="O2" sourceRef="Inner" targetRef="Outer_End"/>
		</bpmn:subProcess>
		<bpmn:boundaryEvent id="Caught" attachedToRef="Outer"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>
		<bpmn:endEvent id="End"/><bpmn:endEvent id="End_Caught"/>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Outer"/><bpmn:sequenceFlow id="F2" sourceRef="Outer" targetRef="End"/>
		<bpmn:sequenceFlow id="F3" sourceRef="Caught" targetRef="End_Caught"/>
	</bpmn:process></bpmn:definitions>`
	m := model{pid: pid, jt: jt, meta: deployXML(t, pid+".bpmn", xml)}
	res := m.createWithResult(t, nil)
	jobs := awaitJobs(t, act{typ: jt, max: 2}, 2)
	_, err := gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: jobs[0].GetKey(), ErrorCode: "DEEP"})
	require.NoError(t, err)
	resp, _ := awaitResult(t, res)
	_, err = gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: jobs[1].GetKey()})
	requireStatus(t, err, codes.NotFound, "")

	needRecords(t)
	pik := resp.GetProcessInstanceKey()
	var ended []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.RecordType == "EVENT" && r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik &&
			(r.Intent == "ELEMENT_TERMINATED" || r.Intent == "ELEMENT_COMPLETED") && r.V.ElementID != "Inner_Start" && r.V.ElementID != "Outer_Start"
	}) {
		ended = append(ended, r.V.ElementID+" "+r.Intent)
	}
	// Both inner instances' elements end before the body; the boundary and the process complete after it.
	require.GreaterOrEqual(t, len(ended), 4)
	assert.Equal(t, []string{"Outer ELEMENT_TERMINATED", "Caught ELEMENT_COMPLETED", "End_Caught ELEMENT_COMPLETED", pid + " ELEMENT_COMPLETED"}, ended[len(ended)-4:])
	assert.Equal(t, 2, count(ended, "Work ELEMENT_TERMINATED"))
	assert.Equal(t, 2, count(ended, "Inner ELEMENT_TERMINATED"))
	assert.Equal(t, 3, count(ended, "Outer ELEMENT_TERMINATED"), "the body and both inner instances")
}
