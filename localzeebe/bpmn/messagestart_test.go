package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMessageStartEvents(t *testing.T) {
	roots := `<bpmn:message id="M1" name="order-placed"/>
		<bpmn:message id="M2" name="order-copied"><bpmn:extensionElements><zeebe:subscription correlationKey="= id"/></bpmn:extensionElements></bpmn:message>`
	pd := parseOne(t, model(roots, `<bpmn:startEvent id="None"/>
		<bpmn:startEvent id="Placed"><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent>
		<bpmn:startEvent id="Copied"><bpmn:messageEventDefinition messageRef="M2"/></bpmn:startEvent>
		<bpmn:endEvent id="E"/>`+flow("F1", "None", "E")+flow("F2", "Placed", "E")+flow("F3", "Copied", "E")))
	assert.Equal(t, "None", pd.NoneStart.ID)
	require.Len(t, pd.MessageStarts, 2)
	for i, want := range [][2]string{{"Placed", "order-placed"}, {"Copied", "order-copied"}} {
		assert.Equal(t, want[0], pd.MessageStarts[i].ID)
		assert.Equal(t, want[1], pd.MessageStarts[i].MessageName)
		assert.Equal(t, EventMessage, pd.MessageStarts[i].EventType)
	}
}

func TestParseMessageStartEventsInvalid(t *testing.T) {
	tests := []struct {
		name, roots, body string
		want              []string
	}{
		{name: "two start events with one message name",
			roots: `<bpmn:message id="M1" name="m"/><bpmn:message id="M2" name="m"/>`,
			body:  `<bpmn:startEvent id="A"><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent><bpmn:startEvent id="B"><bpmn:messageEventDefinition messageRef="M2"/></bpmn:startEvent>`,
			want:  []string{"Element: B\n", "with the same name 'm'"}},
		{name: "a message name expression", roots: `<bpmn:message id="M1" name="= name"/>`,
			body: `<bpmn:startEvent id="A"><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent>`,
			want: []string{"Element: A\n", "must be static for the local engine"}},
		{name: "no messageRef", body: `<bpmn:startEvent id="A"><bpmn:messageEventDefinition/></bpmn:startEvent>`,
			want: []string{"Element: A\n", "must reference a message"}},
		{name: "an unknown message", body: `<bpmn:startEvent id="A"><bpmn:messageEventDefinition messageRef="Nope"/></bpmn:startEvent>`,
			want: []string{"Element: A\n", "'Nope' does not reference a bpmn:message"}},
		{name: "a message without a name", roots: `<bpmn:message id="M1"/>`,
			body: `<bpmn:startEvent id="A"><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent>`,
			want: []string{"Element: M1\n", "'name' must be present"}},
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
