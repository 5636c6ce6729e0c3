package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const gatewayMessage = `<bpmn:message id="M" name="paid"><bpmn:extensionElements><zeebe:subscription correlationKey="= id"/></bpmn:extensionElements></bpmn:message>`

func messageCatch(id string) string {
	return `<bpmn:intermediateCatchEvent id="` + id + `"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`
}

func timerCatch(id string) string {
	return `<bpmn:intermediateCatchEvent id="` + id + `"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`
}

func TestParseEventBasedGateway(t *testing.T) {
	pd := parseOne(t, model(gatewayMessage, `<bpmn:startEvent id="S"/><bpmn:eventBasedGateway id="G"/>`+
		messageCatch("Paid")+timerCatch("Late")+`<bpmn:endEvent id="E"/>`+
		flow("F0", "S", "G")+flow("F1", "G", "Paid")+flow("F2", "G", "Late")+flow("F3", "Paid", "E")+flow("F4", "Late", "E")))
	g := pd.Elements["G"]
	require.NotNil(t, g)
	assert.Equal(t, EventBasedGateway, g.Type)
	assert.Equal(t, EventUnspecified, g.EventType)
	var targets []string
	for _, f := range g.Outgoing {
		targets = append(targets, f.Target.ID)
	}
	assert.Equal(t, []string{"Paid", "Late"}, targets)
}

func TestParseEventBasedGatewayInvalid(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{name: "one outgoing flow", body: `<bpmn:eventBasedGateway id="G"/>` + messageCatch("Paid") + flow("F1", "G", "Paid"),
			want: []string{"Element: G\n", "at least 2 outgoing sequence flows"}},
		{name: "a task after the gateway", body: `<bpmn:eventBasedGateway id="G"/>` + messageCatch("Paid") + task("T", "", "") +
			flow("F1", "G", "Paid") + flow("F2", "G", "T"),
			want: []string{"Element: G\n", "other elements than message, timer or signal intermediate catch events, found 'T'"}},
		{name: "a condition on a flow", body: `<bpmn:eventBasedGateway id="G"/>` + messageCatch("Paid") + timerCatch("Late") +
			cond("F1", "G", "Paid", "= true") + flow("F2", "G", "Late"),
			want: []string{"Element: F1\n", "only supported when leaving an exclusive gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := strings.Join(problems(t, model(gatewayMessage, tt.body)), "\n---\n")
			for _, w := range tt.want {
				assert.Contains(t, all, w)
			}
		})
	}
}
