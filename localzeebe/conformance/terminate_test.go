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
