package bpmn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCallActivityAndTerminateEnd(t *testing.T) {
	tests := []struct {
		name, attrs          string
		processID            string
		allChild, allParents bool
	}{
		{"defaults", `processId="child"`, "child", true, true},
		{"expression, no propagation", `processId="= &quot;child-&quot; + kind" propagateAllChildVariables="false" propagateAllParentVariables="false"`,
			`= "child-" + kind`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pd := parseOne(t, model("", `<bpmn:startEvent id="S"/><bpmn:callActivity id="C"><bpmn:extensionElements><zeebe:calledElement `+tc.attrs+`/></bpmn:extensionElements></bpmn:callActivity>`+
				`<bpmn:endEvent id="T"><bpmn:terminateEventDefinition/></bpmn:endEvent>`+flow("F1", "S", "C")+flow("F2", "C", "T")))
			c := pd.Elements["C"]
			require.NotNil(t, c)
			assert.Equal(t, CallActivity, c.Type)
			assert.Equal(t, tc.processID, c.CalledProcessID)
			assert.Equal(t, tc.allChild, c.PropagateAllChildVariables)
			assert.Equal(t, tc.allParents, c.PropagateAllParentVariables)
			assert.Equal(t, EventTerminate, pd.Elements["T"].EventType)
		})
	}
}

func TestParseTimerStartEvents(t *testing.T) {
	timerStart := func(id, kind, v string) string {
		return `<bpmn:startEvent id="` + id + `"><bpmn:timerEventDefinition><bpmn:` + kind + `>` + v + `</bpmn:` + kind + `></bpmn:timerEventDefinition></bpmn:startEvent>`
	}
	pd := parseOne(t, model("", `<bpmn:startEvent id="S"/>`+timerStart("D", "timeDate", "2030-01-01T09:00:00+01:00")+
		timerStart("C", "timeCycle", "R3/PT1S")+timerStart("U", "timeDuration", "PT1H")+`<bpmn:endEvent id="E"/>`+
		flow("F1", "S", "E")+flow("F2", "D", "E")+flow("F3", "C", "E")+flow("F4", "U", "E")))
	require.Len(t, pd.TimerStarts, 3)
	assert.Equal(t, "S", pd.NoneStart.ID, "a none start event may stand beside timer start events")
	got := [][3]string{}
	for _, e := range pd.TimerStarts {
		assert.Equal(t, EventTimer, e.EventType)
		got = append(got, [3]string{e.TimerDate, e.TimerCycle, e.TimerDuration})
	}
	assert.Equal(t, [][3]string{{"2030-01-01T09:00:00+01:00", "", ""}, {"", "R3/PT1S", ""}, {"", "", "PT1H"}}, got)
	d, ok := ParseDateTime("2030-01-01T09:00+01:00")
	require.True(t, ok)
	assert.Equal(t, "2030-01-01T08:00:00Z", d.UTC().Format("2006-01-02T15:04:05Z07:00"))
}
