package conformance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Event subprocesses (docs: event-subprocesses.md): the scope holding one
// subscribes to its start event while it is active. A non-interrupting one
// runs beside the scope's flow, with its own variable scope (its input
// mappings) that is dropped with it; an interrupting one terminates the rest
// of its scope (here a signal inside an embedded subprocess, then an error
// thrown by a job) and the scope completes when it does.
func TestEventSubprocesses(t *testing.T) {
	t.Parallel()
	sig := uniq(t, "sig")
	m := deployModel(t, "event-subprocess.bpmn", "SIGNAL_NAME", sig)
	key := uniq(t, "k")
	res := m.createWithResult(t, map[string]any{"key": key})
	inner := awaitJob(t, m.typ("inner"))
	pik := inner.GetProcessInstanceKey()

	_, err := publish(t, m.msg, key, 0, "", map[string]any{"note": "n1"})
	require.NoError(t, err)
	note := awaitInstanceJob(t, m.typ("note"), pik)
	assert.Equal(t, map[string]any{"key": key, "note": "n1", "local": "esp"}, jobVars(t, note),
		"the message's variables are merged, the input mapping is the event subprocess's own")
	complete(t, note.GetKey(), map[string]any{"noted": true})

	broadcast(t, sig, nil)
	sigJob := awaitInstanceJob(t, m.typ("sig"), pik)
	complete(t, sigJob.GetKey(), nil)
	work := awaitInstanceJob(t, m.jt, pik)
	_, err = gw.ThrowError(ctx15(t), &pb.ThrowErrorRequest{JobKey: work.GetKey(), ErrorCode: "boom", Variables: `{"reason":"r"}`})
	require.NoError(t, err)
	handle := awaitInstanceJob(t, m.typ("handle"), pik)
	assert.Equal(t, "r", jobVars(t, handle)["why"], "the error start event's output mapping")
	complete(t, handle.GetKey(), nil)
	_, vars := awaitResult(t, res)
	assert.Equal(t, map[string]any{"key": key, "note": "n1", "noted": true, "why": "r"}, vars,
		"the event subprocess's local variables and the error's are dropped")

	needRecords(t)
	jobEvent(t, inner.GetKey(), "CANCELED")
	typ, ev := elementTypes(t, elementKey(t, pik, "Esp_Sig"))
	assert.Equal(t, [2]string{"EVENT_SUB_PROCESS", "UNSPECIFIED"}, [2]string{typ, ev})
	typ, ev = elementTypes(t, elementKey(t, pik, "Esp_Sig_Start"))
	assert.Equal(t, [2]string{"START_EVENT", "SIGNAL"}, [2]string{typ, ev})
	subKey := elementKey(t, pik, "Sub")
	assert.Equal(t, subKey, waitRecord(t, "Esp_Sig activating", func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ElementID == "Esp_Sig" && r.V.ProcessInstanceKey == pik
	}).V.FlowScopeKey, "the event subprocess starts in its scope")

	tests := []struct {
		name  string
		first func(*record) bool
		want  []string
	}{
		{"a non-interrupting message start", func(r *record) bool {
			return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED")
		}, []string{
			// The subscription stays: the event subprocess can start again.
			"EVENT PROCESS_MESSAGE_SUBSCRIPTION CORRELATED Esp_Note_Start", "EVENT PROCESS_EVENT TRIGGERING Esp_Note_Start",
			"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Note", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Esp_Note",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Esp_Note", "COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Note_Start",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Esp_Note_Start", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Esp_Note_Start",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Esp_Note_Start", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Esp_Note_Start",
			"EVENT PROCESS_EVENT TRIGGERED Esp_Note_Start", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Esp_Note_Start",
			"EVENT PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN N1"}},
		{"an interrupting signal start in a subprocess", func(r *record) bool {
			return isEvent(r, "PROCESS_EVENT", "TRIGGERING") && strings.Contains(string(r.Value), `"Esp_Sig_Start"`)
		}, []string{
			"EVENT PROCESS_EVENT TRIGGERING Esp_Sig_Start",
			"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT Task_Inner", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATING Task_Inner",
			"EVENT JOB CANCELED Task_Inner", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATED Task_Inner",
			"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Sig", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Esp_Sig",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Esp_Sig", "COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Sig_Start"}},
		{"an interrupting error start", func(r *record) bool {
			return isEvent(r, "JOB", "ERROR_THROWN")
		}, []string{
			"EVENT JOB ERROR_THROWN Task_Work", "EVENT PROCESS_EVENT TRIGGERING Esp_Error_Start",
			"EVENT PROCESS_MESSAGE_SUBSCRIPTION DELETED Esp_Note_Start",
			"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT Task_Work", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATING Task_Work",
			"EVENT PROCESS_INSTANCE ELEMENT_TERMINATED Task_Work",
			"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Error", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Esp_Error",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Esp_Error", "COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT Esp_Error_Start"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := positionOf(t, tc.name, func(r *record) bool { return r.V.ProcessInstanceKey == pik && tc.first(r) })
			assert.Equal(t, tc.want, recordsFrom(t, pik, from, len(tc.want)))
		})
	}
	// The signal subscription was the subprocess's, the message one the process's.
	for id, scope := range map[string]int64{"Esp_Sig_Start": subKey, "Esp_Note_Start": pik} {
		var n int
		for _, r := range findRecords(t, func(r *record) bool {
			mine := r.ValueType == "SIGNAL_SUBSCRIPTION" && r.V.ProcessDefinitionKey == m.meta.GetProcessDefinitionKey() ||
				r.ValueType == "PROCESS_MESSAGE_SUBSCRIPTION" && r.V.ProcessInstanceKey == pik
			return mine && isEvent(r, r.ValueType, "CREATED") && strings.Contains(string(r.Value), `"`+id+`"`)
		}) {
			assert.Equal(t, scope, elementInstanceOf(t, r), id)
			n++
		}
		assert.Equal(t, 1, n, id)
	}
}

// elementInstanceOf reads the element instance key of a subscription record.
func elementInstanceOf(t *testing.T, r *record) int64 {
	t.Helper()
	var v struct {
		ElementInstanceKey    int64 `json:"elementInstanceKey"`
		CatchEventInstanceKey int64 `json:"catchEventInstanceKey"`
	}
	require.NoError(t, json.Unmarshal(r.Value, &v))
	return v.ElementInstanceKey + v.CatchEventInstanceKey
}

// Timer event subprocesses: a non-interrupting cycle starts one instance per
// repetition, and the process completes only when they have; an
// interrupting duration cancels the process's task.
func TestTimerEventSubprocesses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, interrupting, timer string
		ticks                     int
		workCanceled              bool
	}{
		{"non-interrupting cycle", "false", "<bpmn:timeCycle>R2/PT0.2S</bpmn:timeCycle>", 2, false},
		{"interrupting duration", "true", "<bpmn:timeDuration>PT0.2S</bpmn:timeDuration>", 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, "event-subprocess-timer.bpmn", "INTERRUPTING", tc.interrupting, "TIMER_DEF", tc.timer)
			res := m.createWithResult(t, nil)
			work := awaitJob(t, m.jt)
			ticks := awaitJobs(t, act{typ: m.typ("tick"), max: 2}, tc.ticks)
			noJob(t, m.typ("tick"), 400*time.Millisecond)
			_, err := gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: work.GetKey()})
			if tc.workCanceled {
				require.Error(t, err, "the interrupted task's job is gone")
			} else {
				require.NoError(t, err)
				select {
				case <-res:
					require.FailNow(t, "the process completed while its event subprocesses were active")
				case <-time.After(300 * time.Millisecond):
				}
			}
			for _, j := range ticks {
				completeJob(t, j.GetKey())
			}
			resp, _ := awaitResult(t, res)
			assert.Equal(t, work.GetProcessInstanceKey(), resp.GetProcessInstanceKey())
		})
	}
}

// An event subprocess inside a multi-instance subprocess belongs to each
// inner instance: an interrupting message for one item interrupts only
// that instance, whose event subprocess sees the item.
func TestEventSubprocessInMultiInstance(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "event-subprocess-mi.bpmn")
	key := uniq(t, "k")
	res := m.createWithResult(t, map[string]any{"key": key, "items": []int{1, 2}})
	items := awaitJobs(t, act{typ: m.jt, max: 2}, 2)
	pik := items[0].GetProcessInstanceKey()
	_, err := publish(t, m.msg, key+"1", 0, "", nil)
	require.NoError(t, err)
	cancel := awaitInstanceJob(t, m.typ("cancel"), pik)
	assert.Equal(t, 1.0, jobVars(t, cancel)["item"])
	completeJob(t, cancel.GetKey())
	for _, j := range items {
		_, err := gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: j.GetKey()})
		if jobVars(t, j)["item"] == 1.0 {
			require.Error(t, err, "the interrupted item's job is gone")
		} else {
			require.NoError(t, err)
		}
	}
	resp, _ := awaitResult(t, res)
	assert.Equal(t, pik, resp.GetProcessInstanceKey())

	needRecords(t)
	assert.Equal(t, []string{"Task_Item"}, elementEvents(t, pik, "ELEMENT_TERMINATED"))
	assert.Equal(t, []string{"Esp_Cancel_Start", "Esp_Cancel_Start"}, findSubscriptionElements(t, pik), "one subscription per inner instance")
	assert.Equal(t, 1, count(elementEvents(t, pik, "ELEMENT_ACTIVATED"), "Esp_Cancel_Start"), "one of them triggered")
}

// findSubscriptionElements lists the element ids of the instance's PROCESS_MESSAGE_SUBSCRIPTION CREATED events.
func findSubscriptionElements(t *testing.T, pik int64) []string {
	t.Helper()
	var ids []string
	for _, r := range findRecords(t, func(r *record) bool {
		return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "CREATED") && r.V.ProcessInstanceKey == pik
	}) {
		ids = append(ids, r.V.ElementID)
	}
	return ids
}

// An escalation thrown in a scope with an interrupting escalation event
// subprocess ends the throw event with the rest of the scope.
func TestEscalationEventSubprocessInterrupting(t *testing.T) {
	t.Parallel()
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	deployXML(t, pid+".bpmn", bpmnHeader+`<bpmn:escalation id="Esc" escalationCode="x"/><bpmn:process id="`+pid+`" isExecutable="true">
		<bpmn:startEvent id="Start"/>
		<bpmn:intermediateThrowEvent id="Throw"><bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:intermediateThrowEvent>
		<bpmn:endEvent id="End"/>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Throw"/><bpmn:sequenceFlow id="F2" sourceRef="Throw" targetRef="End"/>
		<bpmn:subProcess id="Esp" triggeredByEvent="true"><bpmn:startEvent id="Esp_Start"><bpmn:escalationEventDefinition/></bpmn:startEvent>
			<bpmn:serviceTask id="Task"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`"/></bpmn:extensionElements></bpmn:serviceTask>
			<bpmn:sequenceFlow id="E1" sourceRef="Esp_Start" targetRef="Task"/></bpmn:subProcess></bpmn:process></bpmn:definitions>`)
	resp, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
	require.NoError(t, err)
	pik := resp.GetProcessInstanceKey()
	completeJob(t, awaitInstanceJob(t, jt, pik).GetKey())

	needRecords(t)
	waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
	assert.Equal(t, []string{"Throw"}, elementEvents(t, pik, "ELEMENT_TERMINATED"))
	assert.NotContains(t, elementEvents(t, pik, "ELEMENT_ACTIVATING"), "End")
	trace := instanceTrace(t, pik, pid, func(r *record) bool { return r.V.ElementID == "Throw" && r.Intent == "ELEMENT_ACTIVATING" })
	want := []string{"EVENT Throw ELEMENT_ACTIVATING", "COMMAND Throw TERMINATE_ELEMENT", "EVENT Throw ELEMENT_TERMINATING",
		"EVENT Throw ELEMENT_TERMINATED", "COMMAND Esp ACTIVATE_ELEMENT"}
	require.GreaterOrEqual(t, len(trace), len(want))
	assert.Equal(t, want, trace[:len(want)])
}
