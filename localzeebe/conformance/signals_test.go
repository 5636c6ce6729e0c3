package conformance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

func broadcast(t *testing.T, name string, vars any) *pb.BroadcastSignalResponse {
	t.Helper()
	resp, err := gw.BroadcastSignal(ctx15(t), &pb.BroadcastSignalRequest{SignalName: name, Variables: jsonOf(t, vars)})
	require.NoError(t, err, "broadcast %s", name)
	return resp
}

// signalTrace lists, from position from on, the records of instance pik and
// the SIGNAL and SIGNAL_SUBSCRIPTION records whose signal name starts with
// prefix, as "RECORDTYPE VALUETYPE INTENT id": the element id, target or
// catch event id, and for SIGNAL records the name after the prefix.
func signalTrace(t *testing.T, pik, from int64, prefix string, n int) []string {
	t.Helper()
	var out []string
	for _, r := range findRecords(t, func(r *record) bool { return r.Position >= from && r.ValueType != "VARIABLE" }) {
		var v struct {
			TargetElementID string `json:"targetElementId"`
			CatchEventID    string `json:"catchEventId"`
			SignalName      string `json:"signalName"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		mine := r.V.ProcessInstanceKey == pik
		if r.ValueType == "SIGNAL" || r.ValueType == "SIGNAL_SUBSCRIPTION" {
			mine = strings.HasPrefix(v.SignalName, prefix)
		}
		if !mine {
			continue
		}
		id := r.V.ElementID + v.TargetElementID + v.CatchEventID
		if r.ValueType == "SIGNAL" {
			id = strings.TrimPrefix(v.SignalName, prefix)
		}
		out = append(out, r.RecordType+" "+r.ValueType+" "+r.Intent+" "+id)
		if len(out) == n {
			break
		}
	}
	return out
}

// Signals (docs: signal-events.md; reference §1.16): a broadcast triggers
// every subscription with its name at once: an intermediate catch event
// completes with the signal's variables, a non-interrupting boundary event
// starts beside its task, an interrupting one terminates it; throw and end
// events broadcast, and signal start events start an instance per broadcast.
func TestSignals(t *testing.T) {
	t.Parallel()
	sig := uniq(t, "sig")
	m := deployModel(t, "signals.bpmn", "SIGNAL_NAME", sig)
	thrownPID, endPID := uniq(t, "p"), uniq(t, "p")
	thrown := deployXML(t, thrownPID+".bpmn", render(t, "signal-start.bpmn", "PROCESS_ID", thrownPID, "JOB_TYPE", m.typ("thrown"), "SIGNAL_NAME", sig+"-thrown"))
	deployXML(t, endPID+".bpmn", render(t, "signal-start.bpmn", "PROCESS_ID", endPID, "JOB_TYPE", m.typ("end"), "SIGNAL_NAME", sig+"-end"))

	pik := m.create(t, map[string]any{"stopWord": "stop"})
	afterElement(t, pik, "Catch_Go")
	resp := broadcast(t, sig+"-go", map[string]any{"go": 1})
	assert.Positive(t, resp.GetKey())
	assert.Equal(t, "<default>", resp.GetTenantId())
	work := awaitInstanceJob(t, m.jt, pik)
	assert.Equal(t, map[string]any{"stopWord": "stop", "go": 1.0}, jobVars(t, work), "the signal's variables are merged")

	for _, note := range []string{"first", "second"} {
		broadcast(t, sig+"-note", map[string]any{"note": note})
		j := awaitInstanceJob(t, m.typ("note"), pik)
		assert.Equal(t, note, jobVars(t, j)["note"])
		completeJob(t, j.GetKey())
	}
	broadcast(t, sig+"-nobody", nil) // no subscription: the signal is simply gone
	broadcast(t, sig+"-stop", nil)
	started := awaitJob(t, m.typ("thrown"))
	assert.Equal(t, thrown.GetProcessDefinitionKey(), started.GetProcessDefinitionKey())
	assert.Equal(t, map[string]any{"reason": "stopped"}, jobVars(t, started), "the throw event's input mappings are the signal's variables")
	ended := awaitJob(t, m.typ("end"))
	assert.Equal(t, map[string]any{}, jobVars(t, ended))
	completeJob(t, started.GetKey())
	completeJob(t, ended.GetKey())

	needRecords(t)
	jobEvent(t, work.GetKey(), "CANCELED")
	waitRecord(t, "the instance completed", func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik
	})
	tests := []struct {
		name  string
		first string // the signal whose BROADCAST command the trace starts at
		want  []string
	}{
		{"an intermediate catch event", "-go", []string{
			"COMMAND SIGNAL BROADCAST -go", "EVENT SIGNAL BROADCASTED -go",
			"EVENT PROCESS_EVENT TRIGGERING Catch_Go", "COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Catch_Go",
			"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Catch_Go", "EVENT PROCESS_EVENT TRIGGERED Catch_Go",
			"EVENT SIGNAL_SUBSCRIPTION DELETED Catch_Go", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Catch_Go",
			"EVENT PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN F2", "COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Task_Work",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Task_Work", "EVENT JOB CREATED Task_Work",
			"EVENT SIGNAL_SUBSCRIPTION CREATED Note", "EVENT SIGNAL_SUBSCRIPTION CREATED Stop",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Task_Work"}},
		{"a non-interrupting boundary event", "-note", []string{
			"COMMAND SIGNAL BROADCAST -note", "EVENT SIGNAL BROADCASTED -note",
			"EVENT PROCESS_EVENT TRIGGERING Note", "EVENT PROCESS_EVENT TRIGGERED Note",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Note", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Note",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Note", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Note",
			"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Note"}},
		{"an interrupting boundary event, a throw and an end event", "-stop", []string{
			"COMMAND SIGNAL BROADCAST -stop", "EVENT SIGNAL BROADCASTED -stop",
			"EVENT PROCESS_EVENT TRIGGERING Stop", "COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT Task_Work",
			"EVENT PROCESS_INSTANCE ELEMENT_TERMINATING Task_Work", "EVENT JOB CANCELED Task_Work",
			"EVENT SIGNAL_SUBSCRIPTION DELETED Note", "EVENT SIGNAL_SUBSCRIPTION DELETED Stop",
			"EVENT PROCESS_INSTANCE ELEMENT_TERMINATED Task_Work", "EVENT PROCESS_EVENT TRIGGERED Stop",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Stop", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Stop",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Stop", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Stop",
			"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Stop", "EVENT PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN F6",
			"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Throw", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Throw",
			"COMMAND SIGNAL BROADCAST -thrown", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Throw",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Throw", "EVENT SIGNAL BROADCASTED -thrown",
			"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Throw", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Throw",
			"EVENT PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN F7", "COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT End_Signal",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING End_Signal", "COMMAND SIGNAL BROADCAST -end",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED End_Signal", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETING End_Signal",
			"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED End_Signal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := positionOf(t, tc.name, func(r *record) bool {
				return r.RecordType == "COMMAND" && r.ValueType == "SIGNAL" && strings.Contains(string(r.Value), `"signalName":"`+sig+tc.first+`"`)
			})
			assert.Equal(t, tc.want, signalTrace(t, pik, from, sig, len(tc.want)))
		})
	}
	goRec := waitRecord(t, "BROADCASTED -go", func(r *record) bool {
		return isEvent(r, "SIGNAL", "BROADCASTED") && jsonField(t, r, "signalName") == sig+"-go"
	})
	assert.Equal(t, resp.GetKey(), goRec.Key, "the answer's key is the signal's")
	assert.JSONEq(t, `{"signalName":"`+sig+`-go","variables":{"go":1},"tenantId":"<default>"}`, string(goRec.Value))
	// The signal start events' subscriptions, and the instances they started.
	subs := findRecords(t, func(r *record) bool {
		return isEvent(r, "SIGNAL_SUBSCRIPTION", "CREATED") && r.V.ProcessDefinitionKey == thrown.GetProcessDefinitionKey()
	})
	require.Len(t, subs, 1)
	var sv map[string]any
	require.NoError(t, json.Unmarshal(subs[0].Value, &sv))
	assert.Equal(t, map[string]any{"processDefinitionKey": float64(thrown.GetProcessDefinitionKey()), "bpmnProcessId": thrownPID,
		"catchEventId": "Signal_Start", "catchEventInstanceKey": -1.0, "signalName": sig + "-thrown", "tenantId": "<default>"}, sv)
	trace := instanceTrace(t, started.GetProcessInstanceKey(), thrownPID, func(*record) bool { return true })
	want := concat([]string{"COMMAND PROCESS ACTIVATE_ELEMENT", "EVENT PROCESS ELEMENT_ACTIVATING", "EVENT PROCESS ELEMENT_ACTIVATED"},
		lifecycle("Signal_Start"), []string{"EVENT F1 SEQUENCE_FLOW_TAKEN", "COMMAND Task_Started ACTIVATE_ELEMENT"})
	require.GreaterOrEqual(t, len(trace), len(want))
	assert.Equal(t, want, trace[:len(want)])
	typ, ev := elementTypes(t, elementKey(t, started.GetProcessInstanceKey(), "Signal_Start"))
	assert.Equal(t, [2]string{"START_EVENT", "SIGNAL"}, [2]string{typ, ev})
}

// A signal start event starts one instance per broadcast; a new version
// replaces the subscription, and an instance can still be created at a
// none start event beside it.
func TestSignalStartEvent(t *testing.T) {
	t.Parallel()
	sig, pid, jt := uniq(t, "sig"), uniq(t, "p"), uniq(t, "jt")
	v1 := deployXML(t, pid+".bpmn", render(t, "signal-start.bpmn", "PROCESS_ID", pid, "JOB_TYPE", jt, "SIGNAL_NAME", sig))
	for i := range 2 {
		broadcast(t, sig, map[string]any{"i": i})
	}
	jobs := awaitJobs(t, act{typ: jt, max: 2}, 2)
	assert.NotEqual(t, jobs[0].GetProcessInstanceKey(), jobs[1].GetProcessInstanceKey())
	assert.ElementsMatch(t, []any{0.0, 1.0}, []any{jobVars(t, jobs[0])["i"], jobVars(t, jobs[1])["i"]})

	v2 := deployXML(t, pid+".bpmn", strings.Replace(render(t, "signal-start.bpmn", "PROCESS_ID", pid, "JOB_TYPE", jt, "SIGNAL_NAME", sig),
		`<bpmn:endEvent id="End"/>`, `<bpmn:endEvent id="End"/><bpmn:endEvent id="End_2"/>`, 1))
	assert.Equal(t, int32(2), v2.GetVersion())
	broadcast(t, sig, nil)
	j := awaitJob(t, jt)
	assert.Equal(t, v2.GetProcessDefinitionKey(), j.GetProcessDefinitionKey(), "only the latest version is started")
	noJob(t, jt, 0)

	_, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
	requireStatus(t, err, codes.FailedPrecondition, rejection("CREATE", "INVALID_STATE",
		"Expected to create instance of process with none start event, but there is no such event"))

	needRecords(t)
	for _, tc := range []struct {
		pdk     int64
		created int
		deleted int
	}{{v1.GetProcessDefinitionKey(), 1, 1}, {v2.GetProcessDefinitionKey(), 1, 0}} {
		for intent, n := range map[string]int{"CREATED": tc.created, "DELETED": tc.deleted} {
			got := findRecords(t, func(r *record) bool {
				return isEvent(r, "SIGNAL_SUBSCRIPTION", intent) && r.V.ProcessDefinitionKey == tc.pdk
			})
			assert.Len(t, got, n, "%s subscriptions of %d", intent, tc.pdk)
		}
	}
}

// An event-based gateway may wait for a signal too (docs:
// event-based-gateways.md): the gateway holds the signal subscription
// beside its timer; the signal completes it, cancels the timer, and the
// signal's catch event completes at once with the signal's variables.
func TestEventBasedGatewaySignal(t *testing.T) {
	t.Parallel()
	sig, pid, jt := uniq(t, "sig"), uniq(t, "p"), uniq(t, "jt")
	deployXML(t, pid+".bpmn", bpmnHeader+`<bpmn:signal id="Signal_Go" name="`+sig+`"/><bpmn:process id="`+pid+`" isExecutable="true">
		<bpmn:startEvent id="Start"/><bpmn:eventBasedGateway id="Gateway"/>
		<bpmn:intermediateCatchEvent id="Go"><bpmn:signalEventDefinition signalRef="Signal_Go"/></bpmn:intermediateCatchEvent>
		<bpmn:intermediateCatchEvent id="Late"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
		<bpmn:serviceTask id="Task"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`"/></bpmn:extensionElements></bpmn:serviceTask>
		<bpmn:endEvent id="End_Late"/>
		<bpmn:sequenceFlow id="F0" sourceRef="Start" targetRef="Gateway"/><bpmn:sequenceFlow id="F1" sourceRef="Gateway" targetRef="Go"/>
		<bpmn:sequenceFlow id="F2" sourceRef="Gateway" targetRef="Late"/><bpmn:sequenceFlow id="F3" sourceRef="Go" targetRef="Task"/>
		<bpmn:sequenceFlow id="F4" sourceRef="Late" targetRef="End_Late"/></bpmn:process></bpmn:definitions>`)
	resp, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
	require.NoError(t, err)
	pik := resp.GetProcessInstanceKey()
	afterElement(t, pik, "Gateway")
	broadcast(t, sig, map[string]any{"go": true})
	j := awaitInstanceJob(t, jt, pik)
	assert.Equal(t, map[string]any{"go": true}, jobVars(t, j))
	completeJob(t, j.GetKey())

	needRecords(t)
	gk := elementKey(t, pik, "Gateway")
	from := positionOf(t, "the broadcast", func(r *record) bool {
		return r.RecordType == "COMMAND" && r.ValueType == "SIGNAL" && strings.Contains(string(r.Value), `"signalName":"`+sig+`"`)
	})
	assert.Equal(t, []string{
		"COMMAND SIGNAL BROADCAST ", "EVENT SIGNAL BROADCASTED ",
		"EVENT PROCESS_EVENT TRIGGERING Go", "COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Gateway",
		"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Gateway", "EVENT TIMER CANCELED Late",
		"EVENT SIGNAL_SUBSCRIPTION DELETED Go", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Gateway",
		"EVENT PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN F1", "COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Go",
		"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Go", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Go",
		"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Go", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Go",
		"EVENT PROCESS_EVENT TRIGGERED Go", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Go",
	}, signalTrace(t, pik, from, sig, 16))
	created := findRecords(t, func(r *record) bool {
		return isEvent(r, "SIGNAL_SUBSCRIPTION", "CREATED") && elementInstanceOf(t, r) == gk
	})
	require.Len(t, created, 1, "the gateway holds the subscription")
}
