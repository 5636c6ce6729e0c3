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
