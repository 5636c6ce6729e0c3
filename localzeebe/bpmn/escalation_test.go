package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseEscalationEvents(t *testing.T) {
	roots := `<bpmn:escalation id="Esc" escalationCode="late"/><bpmn:escalation id="Dyn" escalationCode="= code"/>`
	pd := parseOne(t, model(roots, `<bpmn:startEvent id="Start"/>
		<bpmn:subProcess id="Sub"><bpmn:startEvent id="Sub_Start"/>
			<bpmn:intermediateThrowEvent id="Throw"><bpmn:escalationEventDefinition escalationRef="Dyn"/></bpmn:intermediateThrowEvent>
			<bpmn:endEvent id="Sub_End"><bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:endEvent>`+
		flow("S1", "Sub_Start", "Throw")+flow("S2", "Throw", "Sub_End")+`</bpmn:subProcess>
		<bpmn:boundaryEvent id="ByCode" attachedToRef="Sub" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:boundaryEvent>
		<bpmn:boundaryEvent id="All" attachedToRef="Sub"><bpmn:escalationEventDefinition/></bpmn:boundaryEvent>
		<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/><bpmn:endEvent id="E3"/>`+
		flow("F1", "Start", "Sub")+flow("F2", "Sub", "E1")+flow("F3", "ByCode", "E2")+flow("F4", "All", "E3")+
		esp("X", `<bpmn:startEvent id="X_Start" isInterrupting="false"><bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:startEvent>`)))
	for _, tc := range []struct {
		id, code               string
		catchAll, interrupting bool
	}{
		{"Throw", "= code", false, false}, {"Sub_End", "late", false, false}, {"ByCode", "late", false, false},
		{"All", "", true, true}, {"X_Start", "late", false, false},
	} {
		el := pd.Elements[tc.id]
		assert.Equal(t, EventEscalation, el.EventType, tc.id)
		assert.Equal(t, tc.code, el.EscalationCode, tc.id)
		assert.Equal(t, tc.catchAll, el.EscalationCatchAll, tc.id)
		assert.Equal(t, tc.interrupting, el.CancelActivity, tc.id)
	}
}

func TestParseEscalationEventsInvalid(t *testing.T) {
	roots := `<bpmn:escalation id="Esc" escalationCode="late"/><bpmn:escalation id="NoCode"/><bpmn:escalation id="Dyn" escalationCode="= c"/>`
	sub := `<bpmn:subProcess id="Sub"><bpmn:startEvent id="Sub_Start"/></bpmn:subProcess>`
	tests := []struct{ name, body, want string }{
		{"a throw without escalationRef", `<bpmn:intermediateThrowEvent id="A"><bpmn:escalationEventDefinition/></bpmn:intermediateThrowEvent>`,
			"Element: A\n    ERROR: Escalation throw and end events must reference an escalation (escalationRef)"},
		{"an unknown escalation", `<bpmn:endEvent id="A"><bpmn:escalationEventDefinition escalationRef="Nope"/></bpmn:endEvent>`,
			"Element: A\n    ERROR: escalationRef 'Nope' does not reference a bpmn:escalation"},
		{"a throw without a code", `<bpmn:endEvent id="A"><bpmn:escalationEventDefinition escalationRef="NoCode"/></bpmn:endEvent>`,
			"Element: A\n    ERROR: The escalation 'NoCode' thrown by this event must have a non-empty escalationCode"},
		{"a catch code expression", sub + `<bpmn:boundaryEvent id="B" attachedToRef="Sub"><bpmn:escalationEventDefinition escalationRef="Dyn"/></bpmn:boundaryEvent>`,
			"Element: B\n    ERROR: The escalationCode of an escalation catch event must be static"},
		{"two boundaries with one code", sub + `<bpmn:boundaryEvent id="B1" attachedToRef="Sub"><bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:boundaryEvent>` +
			`<bpmn:boundaryEvent id="B2" attachedToRef="Sub" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:boundaryEvent>`,
			"Element: B2\n    ERROR: Activity 'Sub' already has the escalation boundary event 'B1' escalation code 'late'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := strings.Join(problems(t, model(roots, tt.body)), "\n---\n")
			assert.Contains(t, all, tt.want)
		})
	}
}
