package processview_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

func TestWithDiagram(t *testing.T) {
	bounds := regexp.MustCompile(`<bpmndi:BPMNShape id="[^"]+" bpmnElement="([^"]+)"[^>]*><dc:Bounds x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/>`)
	edges := regexp.MustCompile(`<bpmndi:BPMNEdge id="[^"]+" bpmnElement="([^"]+)">((?:<di:waypoint x="\d+" y="\d+"/>)+)</bpmndi:BPMNEdge>`)
	boundary := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:serviceTask id="T"/>
    <bpmn:boundaryEvent id="B" attachedToRef="T"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
    <bpmn:endEvent id="E"/>
    <bpmn:endEvent id="F"/>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/>
    <bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="E"/>
    <bpmn:sequenceFlow id="f3" sourceRef="B" targetRef="F"/>
  </bpmn:process>
</bpmn:definitions>`)
	tests := []struct {
		name   string
		model  []byte
		shapes [][]string // element, x, y, width, height
		edges  [][]string // flow, waypoints
	}{
		{
			name:   "one task between two events",
			model:  zeebetest.SingleTaskProcess("p", "Task", map[string]string{"identifier": "fn"}, 3),
			shapes: [][]string{{"Start", "92", "82", "36", "36"}, {"Task", "220", "60", "100", "80"}, {"End", "412", "82", "36", "36"}},
			edges: [][]string{{"ToTask", `<di:waypoint x="128" y="100"/><di:waypoint x="220" y="100"/>`},
				{"ToEnd", `<di:waypoint x="320" y="100"/><di:waypoint x="412" y="100"/>`}},
		},
		{
			name:  "a boundary event on the task's lower edge, its path in the next row",
			model: boundary,
			shapes: [][]string{{"S", "92", "82", "36", "36"}, {"T", "220", "60", "100", "80"}, {"B", "292", "122", "36", "36"},
				{"E", "412", "82", "36", "36"}, {"F", "412", "212", "36", "36"}},
			edges: [][]string{{"f1", `<di:waypoint x="128" y="100"/><di:waypoint x="220" y="100"/>`},
				{"f2", `<di:waypoint x="320" y="100"/><di:waypoint x="412" y="100"/>`},
				{"f3", `<di:waypoint x="310" y="158"/><di:waypoint x="310" y="230"/><di:waypoint x="412" y="230"/>`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := processview.WithDiagram(tc.model)
			var shapes, flows [][]string
			for _, m := range bounds.FindAllStringSubmatch(string(got), -1) {
				shapes = append(shapes, m[1:])
			}
			for _, m := range edges.FindAllStringSubmatch(string(got), -1) {
				flows = append(flows, m[1:])
			}
			assert.Equal(t, tc.shapes, shapes)
			assert.Equal(t, tc.edges, flows)
			assert.Equal(t, string(got), string(processview.WithDiagram(got)), "a model with a diagram is left as it is")
		})
	}
}
