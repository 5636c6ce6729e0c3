package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timerRec is what the timer start tests read from a TIMER record.
type timerRec struct {
	Key, DueDate, PIK, EIK int64
	Repetitions            int
}

// timerRecords lists the TIMER events with the intent of a process definition.
func timerRecords(t *testing.T, intent string, pdk int64) []timerRec {
	t.Helper()
	var out []timerRec
	for _, r := range findRecords(t, func(r *record) bool { return isEvent(r, "TIMER", intent) && r.V.ProcessDefinitionKey == pdk }) {
		var v struct {
			Repetitions int   `json:"repetitions"`
			DueDate     int64 `json:"dueDate"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		out = append(out, timerRec{Key: r.Key, DueDate: v.DueDate, PIK: r.V.ProcessInstanceKey, EIK: r.V.ElementInstanceKey, Repetitions: v.Repetitions})
	}
	return out
}

// A timer start event schedules a timer when its process is deployed; each
// time it is due an instance of that version starts at the event. A cycle
// R2/... starts two; deploying a new version cancels the timers of the
// previous one (docs: timer-events.md "Timer start events").
func TestTimerStartEvents(t *testing.T) {
	t.Parallel()
	t.Run("cycle", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "timer-start.bpmn", "TIMER_DEF", "<bpmn:timeCycle>R2/PT0.3S</bpmn:timeCycle>")
		deployed := time.Now()
		jobs := awaitJobs(t, act{typ: m.jt}, 2)
		assert.GreaterOrEqual(t, time.Since(deployed), 550*time.Millisecond, "never earlier than due")
		assert.NotEqual(t, jobs[0].GetProcessInstanceKey(), jobs[1].GetProcessInstanceKey())
		noJob(t, m.jt, 500*time.Millisecond)

		needRecords(t)
		pdk := m.meta.GetProcessDefinitionKey()
		created := timerRecords(t, "CREATED", pdk)
		require.Len(t, created, 2)
		assert.Equal(t, []int{2, 1}, []int{created[0].Repetitions, created[1].Repetitions})
		assert.Equal(t, int64(300), created[1].DueDate-created[0].DueDate, "the next is due one interval after the last")
		assert.Equal(t, [2]int64{-1, -1}, [2]int64{created[0].PIK, created[0].EIK})
		assert.Len(t, timerRecords(t, "TRIGGERED", pdk), 2)

		pik := jobs[0].GetProcessInstanceKey()
		trace := instanceTrace(t, pik, m.pid, func(*record) bool { return true })
		want := []string{"COMMAND PROCESS ACTIVATE_ELEMENT", "EVENT PROCESS ELEMENT_ACTIVATING", "EVENT PROCESS ELEMENT_ACTIVATED",
			"COMMAND Timer_Start ACTIVATE_ELEMENT", "EVENT Timer_Start ELEMENT_ACTIVATING", "EVENT Timer_Start ELEMENT_ACTIVATED",
			"COMMAND Timer_Start COMPLETE_ELEMENT", "EVENT Timer_Start ELEMENT_COMPLETING", "EVENT Timer_Start ELEMENT_COMPLETED",
			"EVENT F1 SEQUENCE_FLOW_TAKEN", "COMMAND Task_Work ACTIVATE_ELEMENT"}
		require.GreaterOrEqual(t, len(trace), len(want))
		assert.Equal(t, want, trace[:len(want)])
		typ, ev := elementTypes(t, elementKey(t, pik, "Timer_Start"))
		assert.Equal(t, [2]string{"START_EVENT", "TIMER"}, [2]string{typ, ev})
	})
	t.Run("a new version replaces the timer", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "timer-start.bpmn", "TIMER_DEF", "<bpmn:timeDuration>PT1H</bpmn:timeDuration>")
		v2 := deployXML(t, m.pid+".bpmn", render(t, "timer-start.bpmn", "PROCESS_ID", m.pid, "JOB_TYPE", m.jt,
			"TIMER_DEF", "<bpmn:timeDate>2020-01-01T00:00:00Z</bpmn:timeDate>"))
		assert.Equal(t, int32(2), v2.GetVersion())
		j := awaitJob(t, m.jt)
		assert.Equal(t, v2.GetProcessDefinitionKey(), j.GetProcessDefinitionKey(), "a date in the past is due at once")

		needRecords(t)
		v1 := timerRecords(t, "CREATED", m.meta.GetProcessDefinitionKey())
		require.Len(t, v1, 1)
		assert.Equal(t, int64(3_600_000), v1[0].DueDate-deployedAt(t, m.meta.GetProcessDefinitionKey()))
		canceled := timerRecords(t, "CANCELED", m.meta.GetProcessDefinitionKey())
		require.Len(t, canceled, 1)
		assert.Equal(t, v1[0].Key, canceled[0].Key)
		assert.Empty(t, timerRecords(t, "TRIGGERED", m.meta.GetProcessDefinitionKey()))
	})
}

// deployedAt is the timestamp of the PROCESS CREATED record of a process definition.
func deployedAt(t *testing.T, pdk int64) int64 {
	t.Helper()
	return waitRecord(t, "PROCESS CREATED", func(r *record) bool { return isEvent(r, "PROCESS", "CREATED") && r.Key == pdk }).Timestamp
}
