package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSignalEvents(t *testing.T) {
	roots := `<bpmn:signal id="S1" name="go"/><bpmn:signal id="S2" name="= &quot;stop-&quot; + id"/>`
	pd := parseOne(t, model(roots, `<bpmn:startEvent id="None"/>
		<bpmn:startEvent id="Start_Go"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:startEvent>
		<bpmn:intermediateCatchEvent id="Catch"><bpmn:signalEventDefinition signalRef="S2"/></bpmn:intermediateCatchEvent>`+
		task("A", "", "")+`<bpmn:boundaryEvent id="B" attachedToRef="A" cancelActivity="false"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:boundaryEvent>
		<bpmn:intermediateThrowEvent id="Throw"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:intermediateThrowEvent>
		<bpmn:endEvent id="End"><bpmn:signalEventDefinition signalRef="S2"/></bpmn:endEvent>
		<bpmn:endEvent id="E2"/>`+
		flow("F1", "None", "Catch")+flow("F2", "Start_Go", "Catch")+flow("F3", "Catch", "A")+flow("F4", "A", "Throw")+flow("F5", "Throw", "End")+flow("F6", "B", "E2")))
	require.Len(t, pd.SignalStarts, 1)
	assert.Equal(t, "Start_Go", pd.SignalStarts[0].ID)
	for _, tc := range []struct{ id, name string }{
		{"Start_Go", "go"}, {"Catch", `= "stop-" + id`}, {"B", "go"}, {"Throw", "go"}, {"End", `= "stop-" + id`},
	} {
		el := pd.Elements[tc.id]
		assert.Equal(t, EventSignal, el.EventType, tc.id)
		assert.Equal(t, tc.name, el.SignalName, tc.id)
	}
	assert.False(t, pd.Elements["B"].CancelActivity)
}

func TestParseSignalEventsInvalid(t *testing.T) {
	tests := []struct {
		name, roots, body string
		want              []string
	}{
		{name: "no signalRef", body: `<bpmn:intermediateCatchEvent id="A"><bpmn:signalEventDefinition/></bpmn:intermediateCatchEvent>`,
			want: []string{"Element: A\n", "must reference a signal (signalRef)"}},
		{name: "an unknown signal", body: `<bpmn:endEvent id="A"><bpmn:signalEventDefinition signalRef="Nope"/></bpmn:endEvent>`,
			want: []string{"Element: A\n", "'Nope' does not reference a bpmn:signal"}},
		{name: "a signal without a name", roots: `<bpmn:signal id="S1"/>`,
			body: `<bpmn:intermediateThrowEvent id="A"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:intermediateThrowEvent>`,
			want: []string{"Element: S1\n", "'name' must be present"}},
		{name: "a start event's name expression", roots: `<bpmn:signal id="S1" name="= x"/>`,
			body: `<bpmn:startEvent id="A"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:startEvent>`,
			want: []string{"Element: A\n", "must be static for the local engine"}},
		{name: "two start events with one signal name", roots: `<bpmn:signal id="S1" name="s"/><bpmn:signal id="S2" name="s"/>`,
			body: `<bpmn:startEvent id="A"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:startEvent><bpmn:startEvent id="B"><bpmn:signalEventDefinition signalRef="S2"/></bpmn:startEvent>`,
			want: []string{"Element: B\n", "with the same name 's'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := strings.Join(problems(t, model(tt.roots, tt.body)), "\n---\n")
			for _, w := range tt.want {
				assert.Contains(t, all, w)
			}
		})
	}
}
