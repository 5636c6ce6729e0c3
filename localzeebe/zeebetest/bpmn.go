package zeebetest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
)

// SingleTaskProcess returns a BPMN process with one service task of type
// "lambda" between a start and an end event. Tests use it to model one Lambda
// call with the given task headers; an empty header map models a task that
// forgot its identifier.
func SingleTaskProcess(processID, elementID string, headers map[string]string, retries int) []byte {
	return SingleTaskProcessOfType(processID, elementID, "lambda", headers, retries)
}

// SingleTaskProcessOfType is SingleTaskProcess with a job type of its own, for
// jobs that a test activates itself (the poller only activates "lambda").
func SingleTaskProcessOfType(processID, elementID, jobType string, headers map[string]string, retries int) []byte {
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var hs bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&hs, `<zeebe:header key="%s" value="%s"/>`, esc(k), esc(headers[k]))
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_%[1]s" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="%[1]s" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>ToTask</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="%[2]s">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="%[5]s" retries="%[3]d"/>
        <zeebe:taskHeaders>%[4]s</zeebe:taskHeaders>
      </bpmn:extensionElements>
      <bpmn:incoming>ToTask</bpmn:incoming><bpmn:outgoing>ToEnd</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="End"><bpmn:incoming>ToEnd</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="ToTask" sourceRef="Start" targetRef="%[2]s"/>
    <bpmn:sequenceFlow id="ToEnd" sourceRef="%[2]s" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>
`, esc(processID), esc(elementID), retries, hs.String(), esc(jobType)))
}

// ErrorBoundaryProcess is SingleTaskProcess with an interrupting error
// boundary event on the task that catches errorCode and ends at the end
// event "Caught" (the task's own path ends at "End").
func ErrorBoundaryProcess(processID, elementID string, headers map[string]string, retries int, errorCode string) []byte {
	single := string(SingleTaskProcess(processID, elementID, headers, retries))
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	boundary := fmt.Sprintf(`
    <bpmn:boundaryEvent id="Boundary_Error" attachedToRef="%[1]s">
      <bpmn:outgoing>ToCaught</bpmn:outgoing>
      <bpmn:errorEventDefinition errorRef="Error_%[2]s"/>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="Caught"><bpmn:incoming>ToCaught</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="ToCaught" sourceRef="Boundary_Error" targetRef="Caught"/>
  </bpmn:process>
  <bpmn:error id="Error_%[2]s" name="%[2]s" errorCode="%[2]s"/>`, esc(elementID), esc(errorCode))
	return []byte(strings.Replace(single, "\n  </bpmn:process>", boundary, 1))
}
