package bpmn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLinkEvents(t *testing.T) {
	pd := parseOne(t, model("", `<bpmn:startEvent id="Start"/>
		<bpmn:intermediateThrowEvent id="T"><bpmn:linkEventDefinition name="a"/></bpmn:intermediateThrowEvent>
		<bpmn:intermediateCatchEvent id="C"><bpmn:linkEventDefinition name="a"/></bpmn:intermediateCatchEvent>
		<bpmn:endEvent id="End"/>`+flow("F1", "Start", "T")+flow("F2", "C", "End")))
	require.NotNil(t, pd.Elements["T"].LinkTarget)
	assert.Equal(t, "C", pd.Elements["T"].LinkTarget.ID)
	for _, id := range []string{"T", "C"} {
		assert.Equal(t, EventLink, pd.Elements[id].EventType)
		assert.Equal(t, "a", pd.Elements[id].LinkName)
	}
	probs := problems(t, model("", `<bpmn:intermediateThrowEvent id="T"><bpmn:linkEventDefinition/></bpmn:intermediateThrowEvent>`))
	assert.Equal(t, []string{"Element: T\n    ERROR: Link name must be present and not empty."}, probs)
}
