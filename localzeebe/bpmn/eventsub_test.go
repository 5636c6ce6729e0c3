package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// esp is an event subprocess with the given start event and a task after it.
func esp(id, start string) string {
	return `<bpmn:subProcess id="` + id + `" triggeredByEvent="true">` + start + task(id+"_Task", "", "") +
		flow(id+"_F", id+"_Start", id+"_Task") + `</bpmn:subProcess>`
}

func TestParseEventSubprocesses(t *testing.T) {
	roots := `<bpmn:message id="M" name="m"><bpmn:extensionElements><zeebe:subscription correlationKey="= k"/></bpmn:extensionElements></bpmn:message>` +
		`<bpmn:signal id="S" name="s"/><bpmn:error id="Err" errorCode="E"/>`
	pd := parseOne(t, model(roots, `<bpmn:startEvent id="Start"/>`+task("A", "", "")+flow("F1", "Start", "A")+
		esp("Msg", `<bpmn:startEvent id="Msg_Start" isInterrupting="false"><bpmn:messageEventDefinition messageRef="M"/></bpmn:startEvent>`)+
		esp("OnErr", `<bpmn:startEvent id="OnErr_Start"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>`)+
		`<bpmn:subProcess id="Sub"><bpmn:startEvent id="Sub_Start"/>`+
		esp("Sig", `<bpmn:startEvent id="Sig_Start"><bpmn:signalEventDefinition signalRef="S"/></bpmn:startEvent>`)+
		esp("Tick", `<bpmn:startEvent id="Tick_Start" isInterrupting="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1M</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>`)+
		`</bpmn:subProcess>`+flow("F2", "A", "Sub")))
	require.Len(t, pd.EventSubs, 2)
	sub := pd.Elements["Sub"]
	require.Len(t, sub.EventSubs, 2)
	for _, tc := range []struct {
		esp          *Element
		start        string
		ev           EventType
		interrupting bool
	}{
		{pd.EventSubs[0], "Msg_Start", EventMessage, false}, {pd.EventSubs[1], "OnErr_Start", EventError, true},
		{sub.EventSubs[0], "Sig_Start", EventSignal, true}, {sub.EventSubs[1], "Tick_Start", EventTimer, false},
	} {
		assert.Equal(t, EventSubProcess, tc.esp.Type)
		require.NotNil(t, tc.esp.EventStart, tc.esp.ID)
		assert.Equal(t, tc.start, tc.esp.EventStart.ID)
		assert.Equal(t, tc.ev, tc.esp.EventStart.EventType)
		assert.Equal(t, tc.interrupting, tc.esp.EventStart.CancelActivity, tc.start)
		assert.True(t, tc.esp.EventStart.InEventSubprocess())
	}
	assert.Equal(t, "R/PT1M", sub.EventSubs[1].EventStart.TimerCycle)
	assert.Equal(t, "E", pd.EventSubs[1].EventStart.ErrorCode)
	assert.Equal(t, "Start", pd.NoneStart.ID, "an event subprocess's start event is not the process's")
}

func TestParseEventSubprocessesInvalid(t *testing.T) {
	roots := `<bpmn:error id="Err" errorCode="E"/>`
	tests := []struct{ name, body, want string }{
		{"a none start event", esp("X", `<bpmn:startEvent id="X_Start"/>`),
			"Element: X_Start\n    ERROR: The start event of an event subprocess must have an event definition"},
		{"no start event", `<bpmn:subProcess id="X" triggeredByEvent="true">` + task("T", "", "") + `</bpmn:subProcess>`,
			"Element: X\n    ERROR: An event subprocess must have exactly one start event, found 0"},
		{"a non-interrupting error start", esp("X", `<bpmn:startEvent id="X_Start" isInterrupting="false"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>`),
			"Element: X_Start\n    ERROR: An error start event of an event subprocess must be interrupting"},
		{"an interrupting timer cycle", esp("X", `<bpmn:startEvent id="X_Start"><bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1M</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>`),
			"Element: X_Start\n    ERROR: Interrupting timer start events of event subprocesses must not have a 'timeCycle'"},
		{"a sequence flow into it", `<bpmn:startEvent id="S"/>` + flow("In", "S", "X") +
			esp("X", `<bpmn:startEvent id="X_Start"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>`),
			"Element: X\n    ERROR: An event subprocess must not have incoming or outgoing sequence flows"},
		{"two error event subprocesses with one code", esp("X", `<bpmn:startEvent id="X_Start"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>`) +
			esp("Y", `<bpmn:startEvent id="Y_Start"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>`),
			"Element: Y_Start\n    ERROR: The event subprocess 'X' of this scope already starts on the error code 'E'"},
		{"two catch-all error event subprocesses", esp("X", `<bpmn:startEvent id="X_Start"><bpmn:errorEventDefinition/></bpmn:startEvent>`) +
			esp("Y", `<bpmn:startEvent id="Y_Start"><bpmn:errorEventDefinition/></bpmn:startEvent>`),
			"Element: Y_Start\n    ERROR: The event subprocess 'X' of this scope already starts on all errors"},
		{"a boundary event on it", esp("X", `<bpmn:startEvent id="X_Start"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>`) +
			`<bpmn:boundaryEvent id="B" attachedToRef="X"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`,
			"Element: B\n    ERROR: attachedToRef 'X' must reference an activity, not a EVENT_SUB_PROCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := strings.Join(problems(t, model(roots, tt.body)), "\n---\n")
			assert.Contains(t, all, tt.want)
		})
	}
}
