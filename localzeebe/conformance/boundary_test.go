package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordsFrom lists the instance's records from the one at position from on,
// as "RECORDTYPE VALUETYPE INTENT elementId" (elementId or targetElementId
// when the value has one).
func recordsFrom(t *testing.T, pik, from int64, n int) []string {
	t.Helper()
	var out []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.Position >= from && r.V.ProcessInstanceKey == pik && r.ValueType != "VARIABLE"
	}) {
		var v struct {
			TargetElementID string `json:"targetElementId"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		id := r.V.ElementID + v.TargetElementID
		out = append(out, r.RecordType+" "+r.ValueType+" "+r.Intent+" "+id)
		if len(out) == n {
			break
		}
	}
	return out
}

// Non-interrupting boundary events start a boundary event instance in the
// activity's flow scope each time they occur, and the activity goes on: a
// timer cycle R3/... three times, a message boundary once per message.
// Interrupting message boundary events terminate the task or subprocess,
// then start (docs: timer-events.md, message-events.md, Zeebe 8.5).
func TestBoundaryEvents(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "boundary-events.bpmn", "TIMER_CYCLE", "R3/PT0.2S")
	key := uniq(t, "k")
	pik := m.create(t, map[string]any{"key": key})
	work := awaitInstanceJob(t, m.typ(""), pik)
	inner := awaitInstanceJob(t, m.typ("inner"), pik)

	ticks := awaitJobs(t, act{typ: m.typ("tick")}, 3)
	for _, j := range ticks {
		assert.Equal(t, pik, j.GetProcessInstanceKey())
	}
	noJob(t, m.typ("tick"), 400*time.Millisecond)
	subTick := awaitInstanceJob(t, m.typ("subtick"), pik)
	assert.Equal(t, pik, subTick.GetProcessInstanceKey())

	for _, note := range []string{"first", "second"} {
		_, err := publish(t, m.msg+"-note", key, 0, "", map[string]any{"note": note})
		require.NoError(t, err)
		j := awaitInstanceJob(t, m.typ("note"), pik)
		assert.Equal(t, note, jobVars(t, j)["note"], "the message's variables are merged")
	}

	_, err := publish(t, m.msg+"-subcancel", key, 0, "", map[string]any{"why": "sub"})
	require.NoError(t, err)
	subCancelled := awaitInstanceJob(t, m.typ("subcancelled"), pik)
	assert.Equal(t, "sub", jobVars(t, subCancelled)["why"])
	_, err = publish(t, m.msg+"-cancel", key, 0, "", nil)
	require.NoError(t, err)
	awaitInstanceJob(t, m.typ("cancelled"), pik)

	needRecords(t)
	for _, j := range []int64{work.GetKey(), inner.GetKey()} {
		waitRecord(t, "JOB CANCELED", func(r *record) bool { return isEvent(r, "JOB", "CANCELED") && r.Key == j })
	}
	var reps []int
	for _, r := range findRecords(t, func(r *record) bool { return isEvent(r, "TIMER", "CREATED") && r.V.ProcessInstanceKey == pik }) {
		var v struct {
			TargetElementID string `json:"targetElementId"`
			Repetitions     int    `json:"repetitions"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		if v.TargetElementID == "Tick" {
			reps = append(reps, v.Repetitions)
		}
	}
	assert.Equal(t, []int{3, 2, 1}, reps, "one timer per repetition, each counting down")
	for _, id := range []string{"Tick", "Note", "Sub_Tick"} {
		for _, r := range findRecords(t, func(r *record) bool {
			return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ProcessInstanceKey == pik && r.V.ElementID == id
		}) {
			assert.Equal(t, pik, r.V.FlowScopeKey, "%s starts in the activity's flow scope", id)
		}
	}
	subs := map[string]bool{}
	for _, r := range findRecords(t, func(r *record) bool {
		return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "CREATED") && r.V.ProcessInstanceKey == pik
	}) {
		var v struct {
			Interrupting bool `json:"interrupting"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		subs[r.V.ElementID] = v.Interrupting
	}
	assert.Equal(t, map[string]bool{"Note": false, "Cancel": true, "Sub_Cancel": true}, subs)

	tests := []struct {
		name  string
		first func(*record) bool
		want  []string
	}{
		{"a cycle's first timer", func(r *record) bool {
			return r.RecordType == "COMMAND" && r.ValueType == "TIMER" && r.Intent == "TRIGGER"
		}, []string{
			"COMMAND TIMER TRIGGER Tick", "EVENT TIMER TRIGGERED Tick",
			"EVENT PROCESS_EVENT TRIGGERING Tick", "EVENT PROCESS_EVENT TRIGGERED Tick",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Tick", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Tick",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Tick", "EVENT TIMER CREATED Tick",
			"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Tick", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETED Tick",
			"EVENT PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN F4"}},
		{"an interrupting message on the subprocess", func(r *record) bool {
			return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED") && r.V.ElementID == "Sub_Cancel"
		}, []string{
			// The correlated subscription is consumed: no DELETED for it.
			"EVENT PROCESS_MESSAGE_SUBSCRIPTION CORRELATED Sub_Cancel", "EVENT PROCESS_EVENT TRIGGERING Sub_Cancel",
			"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT Sub", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATING Sub",
			"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT Task_Inner", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATING Task_Inner",
			"EVENT JOB CANCELED Task_Inner", "EVENT PROCESS_INSTANCE ELEMENT_TERMINATED Task_Inner",
			"EVENT PROCESS_INSTANCE ELEMENT_TERMINATED Sub",
			"EVENT PROCESS_EVENT TRIGGERED Sub_Cancel",
			"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING Sub_Cancel", "EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED Sub_Cancel",
			"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT Sub_Cancel", "EVENT PROCESS_INSTANCE ELEMENT_COMPLETING Sub_Cancel"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := positionOf(t, tc.name, func(r *record) bool { return r.V.ProcessInstanceKey == pik && tc.first(r) })
			assert.Equal(t, tc.want, recordsFrom(t, pik, from, len(tc.want)))
		})
	}
}
