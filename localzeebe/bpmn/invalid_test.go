package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// problems parses data, requires a *ValidationError and returns its problems.
func problems(t *testing.T, data []byte) []string {
	t.Helper()
	defs, err := Parse(data)
	require.Nil(t, defs)
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	require.NotEmpty(t, verr.Problems)
	assert.Equal(t, strings.Join(verr.Problems, "\n"), err.Error())
	return verr.Problems
}

func TestParseRejectsUnsupportedElements(t *testing.T) {
	errDef := `<bpmn:error id="Err" errorCode="E"/>`
	tests := []struct {
		name     string
		roots    string
		body     string
		id, kind string // the problem must name both
	}{
		{"transaction", "", `<bpmn:transaction id="Tx"/>`, "Tx", "transaction"},
		{"adHocSubProcess", "", `<bpmn:adHocSubProcess id="AdHoc"/>`, "AdHoc", "adHocSubProcess"},
		{"inclusiveGateway", "", `<bpmn:inclusiveGateway id="Inc"/>`, "Inc", "inclusiveGateway"},
		{"complexGateway", "", `<bpmn:complexGateway id="Cx"/>`, "Cx", "complexGateway"},
		{"conditional catch event", "", `<bpmn:intermediateCatchEvent id="CC"><bpmn:conditionalEventDefinition/></bpmn:intermediateCatchEvent>`, "CC", "intermediateCatchEvent' with 'conditionalEventDefinition"},
		{"none intermediate catch event", "", `<bpmn:intermediateCatchEvent id="NC"/>`, "NC", "intermediateCatchEvent' without an event definition"},
		{"none boundary event", "", task("A", "", "") + `<bpmn:boundaryEvent id="NB" attachedToRef="A"/>`, "NB", "boundaryEvent' without an event definition"},
		{"two event definitions", errDef, `<bpmn:endEvent id="Two"><bpmn:errorEventDefinition errorRef="Err"/><bpmn:terminateEventDefinition/></bpmn:endEvent>`, "Two", "endEvent' with several event definitions"},
		{"timer date boundary", "", task("A", "", "") + `<bpmn:boundaryEvent id="TD" attachedToRef="A"><bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>`, "TD", "boundaryEvent' with timer 'timeDate'"},
		{"timer date catch", "", `<bpmn:intermediateCatchEvent id="TDC"><bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`, "TDC", "intermediateCatchEvent' with timer 'timeDate'"},
		{"standard loop", "", task("Loop", "", `<bpmn:standardLoopCharacteristics/>`), "Loop", "serviceTask' with 'standardLoopCharacteristics'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := problems(t, model(tt.roots, tt.body))
			require.Len(t, probs, 1, strings.Join(probs, "\n"))
			assert.Contains(t, probs[0], "Element: "+tt.id+"\n")
			assert.Contains(t, probs[0], "Element '"+tt.id+"' of type '"+tt.kind)
			assert.Contains(t, probs[0], "not supported by the local engine")
		})
	}
}

func TestParseRejectsReferencesToUnsupportedElementsOnce(t *testing.T) {
	// Flows, boundary events and associations touching a rejected element add no noise.
	probs := problems(t, model("", `<bpmn:startEvent id="S"/><bpmn:transaction id="U"/><bpmn:endEvent id="E"/>
		<bpmn:boundaryEvent id="B" attachedToRef="U"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
		<bpmn:association id="As" sourceRef="B" targetRef="U"/>`+flow("F1", "S", "U")+flow("F2", "U", "E")))
	require.Len(t, probs, 1, strings.Join(probs, "\n"))
	assert.Contains(t, probs[0], "Element: U\n")
	assert.Contains(t, probs[0], "'U' of type 'transaction'")
}

func TestParseRejectsInvalidModels(t *testing.T) {
	errDef := `<bpmn:error id="Err" errorCode="E1"/>`
	compensable := task("A", "", "") + `<bpmn:boundaryEvent id="BA" attachedToRef="A"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>` +
		task("UndoA", ` isForCompensation="true"`, "")
	mi := func(inner, lc string) string {
		return task("MI", "", `<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>`+lc+`</bpmn:extensionElements>`+inner+`</bpmn:multiInstanceLoopCharacteristics>`)
	}
	tests := []struct {
		name string
		data []byte
		want []string // substrings of the single problem
	}{
		{"interrupting timer cycle boundary", model("", task("A", "", "")+`<bpmn:boundaryEvent id="TC" attachedToRef="A"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>`),
			[]string{"Element: TC\n", "Interrupting timer boundary events must not have a 'timeCycle'"}},
		{"cycle with a start date", model("", task("A", "", "")+`<bpmn:boundaryEvent id="TC" attachedToRef="A" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/2030-01-01T00:00:00Z/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>`),
			[]string{"Element: TC\n", "'timeCycle' must be a repeating interval such as 'R3/PT10S'", "neither cron expressions nor start dates"}},
		{"cron cycle", model("", task("A", "", "")+`<bpmn:boundaryEvent id="TC" attachedToRef="A" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0 9-17 * * MON-FRI</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>`),
			[]string{"Element: TC\n", "found '0 0 9-17 * * MON-FRI'"}},
		{"zero repetitions", model("", task("A", "", "")+`<bpmn:boundaryEvent id="TC" attachedToRef="A" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R0/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>`),
			[]string{"Element: TC\n", "found 'R0/PT1H'"}},
		{"timer start event with an expression", model("", `<bpmn:startEvent id="TS"><bpmn:timerEventDefinition><bpmn:timeCycle>= cycle</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>`),
			[]string{"Element: TS\n", "'timeCycle' must be static for the local engine"}},
		{"timer start event with a cron cycle", model("", `<bpmn:startEvent id="TS"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>`),
			[]string{"Element: TS\n", "neither cron expressions nor start dates"}},
		{"timer start event with a date without offset", model("", `<bpmn:startEvent id="TS"><bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T09:00:00</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:startEvent>`),
			[]string{"Element: TS\n", "'timeDate' must be an ISO 8601 date-time with an offset"}},
		{"timer start event without a timer", model("", `<bpmn:startEvent id="TS"><bpmn:timerEventDefinition/></bpmn:startEvent>`),
			[]string{"Element: TS\n", "exactly one of 'timeDate', 'timeCycle' or 'timeDuration'"}},
		{"call activity without calledElement", model("", `<bpmn:callActivity id="C"/>`),
			[]string{"Element: C > extensionElements\n", "Must have exactly one 'zeebe:calledElement' extension element"}},
		{"call activity with an empty processId", model("", `<bpmn:callActivity id="C"><bpmn:extensionElements><zeebe:calledElement processId=" "/></bpmn:extensionElements></bpmn:callActivity>`),
			[]string{"Element: C > extensionElements\n", "Attribute 'processId' of 'zeebe:calledElement' must be present and not empty"}},
		{"call activity binding type", model("", `<bpmn:callActivity id="C"><bpmn:extensionElements><zeebe:calledElement processId="p" bindingType="deployment"/></bpmn:extensionElements></bpmn:callActivity>`),
			[]string{"Element: C > extensionElements\n", "Attribute 'bindingType' of 'zeebe:calledElement' was added in Zeebe 8.6", "latest version"}},
		{"multi-instance call activity", model("", `<bpmn:callActivity id="C"><bpmn:extensionElements><zeebe:calledElement processId="p"/></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics/></bpmn:callActivity>`),
			[]string{"Element: C\n", "'callActivity' with 'multiInstanceLoopCharacteristics'", "not supported by the local engine"}},
		{"missing taskDefinition", model("", `<bpmn:serviceTask id="Task_A"/>`),
			[]string{"Element: Task_A > extensionElements\n    ERROR: Must have exactly one 'zeebe:taskDefinition' extension element"}},
		{"two taskDefinitions", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="a"/><zeebe:taskDefinition type="b"/></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Task_A", "exactly one 'zeebe:taskDefinition'"}},
		{"empty job type", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type=" "/></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Task_A", "'type'", "not empty"}},
		{"empty retries", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="a" retries=""/></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Task_A", "'retries'"}},
		{"header without key", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="a"/><zeebe:taskHeaders><zeebe:header value="v"/></zeebe:taskHeaders></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Task_A", "'key'"}},
		{"taskDefinition on an end event", model("", `<bpmn:endEvent id="E"><bpmn:extensionElements><zeebe:taskDefinition type="a"/></bpmn:extensionElements></bpmn:endEvent>`),
			[]string{"Element: E > extensionElements", "'zeebe:taskDefinition' is not supported on 'endEvent' elements"}},
		{"unknown zeebe extension", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="a"/><zeebe:executionListeners/></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Task_A", "'zeebe:executionListeners' was added in Zeebe 8.6", "implements Zeebe 8.5 and does not support it"}},
		{"unknown zeebe extension on the process", []byte(head + `<bpmn:process id="proc" isExecutable="true"><bpmn:extensionElements><zeebe:executionListeners/></bpmn:extensionElements></bpmn:process></bpmn:definitions>`),
			[]string{"Element: proc\n", "'zeebe:executionListeners' was added in Zeebe 8.6"}},
		{"task listeners on a user task", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:taskListeners/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "'zeebe:taskListeners' was added in Zeebe 8.8"}},
		{"user task priority", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:priorityDefinition priority="50"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "'zeebe:priorityDefinition' was added in Zeebe 8.6"}},
		{"two form attributes on a job-based user task", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:formDefinition formId="f" formKey="k"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "Exactly one of the attributes"}},
		{"form key on a Zeebe user task", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition formKey="k"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "'formKey'", "'formId' or 'externalReference'"}},
		{"two form attributes", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition formId="f" externalReference="x"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "Exactly one of the attributes"}},
		{"two zeebe:userTask", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:userTask/><zeebe:userTask/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "at most one 'zeebe:userTask'"}},
		{"external form reference on a job-based user task", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:formDefinition externalReference="f"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "'externalReference'", "'formKey'"}},
		{"empty candidate in a static list", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="1,,"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "Expected static value to be a list of comma-separated values, e.g. 'a,b,c', but found '1,,'"}},
		{"static due date that is no date-time", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:taskSchedule dueDate="12345"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "Expected static value to be a valid DateTime String, e.g. '2023-03-02T15:35+02:00', but found '12345'."}},
		{"static follow-up date without an offset", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:taskSchedule followUpDate="2023-03-02T15:35"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "but found '2023-03-02T15:35'"}},
		{"receive task without a message", model("", `<bpmn:receiveTask id="R"/>`),
			[]string{"Element: R\n", "must reference a message (messageRef)"}},
		{"receive task with a message without a correlation key", model(`<bpmn:message id="M" name="m"/>`, `<bpmn:receiveTask id="R" messageRef="M"/>`),
			[]string{"Element: M > extensionElements\n", "exactly one 'zeebe:subscription'"}},
		{"script task with both a script and a task definition", model("", `<bpmn:scriptTask id="Sc"><bpmn:extensionElements><zeebe:script expression="=1" resultVariable="r"/><zeebe:taskDefinition type="x"/></bpmn:extensionElements></bpmn:scriptTask>`),
			[]string{"Element: Sc > extensionElements\n", "Must have either one 'zeebe:script' or one 'zeebe:taskDefinition' extension element"}},
		{"script task without an implementation", model("", `<bpmn:scriptTask id="Sc"/>`),
			[]string{"Element: Sc > extensionElements\n", "Must have either one 'zeebe:script' or one 'zeebe:taskDefinition' extension element"}},
		{"script with a static expression", model("", `<bpmn:scriptTask id="Sc"><bpmn:extensionElements><zeebe:script expression="1 + 1" resultVariable="r"/></bpmn:extensionElements></bpmn:scriptTask>`),
			[]string{"Element: Sc\n", "Expected an expression starting with '='", "'zeebe:script expression'"}},
		{"script without a result variable", model("", `<bpmn:scriptTask id="Sc"><bpmn:extensionElements><zeebe:script expression="=1"/></bpmn:extensionElements></bpmn:scriptTask>`),
			[]string{"Element: Sc > extensionElements\n", "'resultVariable'"}},
		{"DMN business rule task without a result variable", model("", `<bpmn:businessRuleTask id="BR"><bpmn:extensionElements><zeebe:calledDecision decisionId="d"/></bpmn:extensionElements></bpmn:businessRuleTask>`),
			[]string{"Element: BR > extensionElements\n", "Attribute 'resultVariable' of 'zeebe:calledDecision' must be a variable name, found ''"}},
		{"business rule task without an implementation", model("", `<bpmn:businessRuleTask id="BR"/>`),
			[]string{"Element: BR > extensionElements\n", "Must have either one 'zeebe:calledDecision' or one 'zeebe:taskDefinition' extension element"}},
		{"business rule task with both implementations", model("", `<bpmn:businessRuleTask id="BR"><bpmn:extensionElements><zeebe:calledDecision decisionId="d" resultVariable="r"/><zeebe:taskDefinition type="t"/></bpmn:extensionElements></bpmn:businessRuleTask>`),
			[]string{"Element: BR > extensionElements\n", "Must have either one 'zeebe:calledDecision' or one 'zeebe:taskDefinition' extension element"}},
		{"send task without a task definition", model("", `<bpmn:sendTask id="Se"/>`),
			[]string{"Element: Se > extensionElements\n", "exactly one 'zeebe:taskDefinition'"}},
		{"message end event without a task definition", model("", `<bpmn:endEvent id="ME"><bpmn:messageEventDefinition/></bpmn:endEvent>`),
			[]string{"Element: ME > extensionElements\n", "exactly one 'zeebe:taskDefinition'"}},
		{"message throw event without a task definition", model("", `<bpmn:intermediateThrowEvent id="MT"><bpmn:messageEventDefinition/></bpmn:intermediateThrowEvent>`),
			[]string{"Element: MT > extensionElements\n", "exactly one 'zeebe:taskDefinition'"}},
		{"task definition on a user task", model("", `<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:taskDefinition type="x"/></bpmn:extensionElements></bpmn:userTask>`),
			[]string{"Element: U > extensionElements\n", "'zeebe:taskDefinition' is not supported on 'userTask' elements"}},
		{"multi-instance manual task", model("", `<bpmn:manualTask id="Ma"><bpmn:multiInstanceLoopCharacteristics/></bpmn:manualTask>`),
			[]string{"Element: Ma\n", "'Ma' of type 'manualTask' with 'multiInstanceLoopCharacteristics'", "not supported by the local engine"}},
		{"invalid mapping target", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="a"/><zeebe:ioMapping><zeebe:input source="=x" target="=y"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Task_A", "'target' of 'zeebe:input'", "'=y'"}},
		{"error end event without error code", model(`<bpmn:error id="Err" name="no code"/>`, `<bpmn:endEvent id="E"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>`),
			[]string{"Element: E\n", "'Err'", "errorCode"}},
		{"error end event without errorRef", model("", `<bpmn:endEvent id="E"><bpmn:errorEventDefinition/></bpmn:endEvent>`),
			[]string{"Element: E\n", "errorRef"}},
		{"unknown errorRef", model("", task("A", "", "")+`<bpmn:boundaryEvent id="B" attachedToRef="A"><bpmn:errorEventDefinition errorRef="Nope"/></bpmn:boundaryEvent>`),
			[]string{"Element: B\n", "'Nope'"}},
		{"non-interrupting error boundary", model(errDef, task("A", "", "")+`<bpmn:boundaryEvent id="B" attachedToRef="A" cancelActivity="false"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`),
			[]string{"Element: B\n", "must be interrupting"}},
		{"duplicate error codes on one activity", model(errDef+`<bpmn:error id="Err2" errorCode="E1"/>`, task("A", "", "")+
			`<bpmn:boundaryEvent id="B1" attachedToRef="A"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`+
			`<bpmn:boundaryEvent id="B2" attachedToRef="A"><bpmn:errorEventDefinition errorRef="Err2"/></bpmn:boundaryEvent>`),
			[]string{"Element: B2\n", "'A'", "'B1'", "'E1'"}},
		{"two catch-all boundaries on one activity", model("", task("A", "", "")+
			`<bpmn:boundaryEvent id="B1" attachedToRef="A"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>`+
			`<bpmn:boundaryEvent id="B2" attachedToRef="A"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>`),
			[]string{"Element: B2\n", "'B1'", "catching all errors"}},
		{"boundary attached to nothing", model(errDef, `<bpmn:boundaryEvent id="B"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`),
			[]string{"Element: B\n", "attachedToRef"}},
		{"boundary attached to an unknown element", model(errDef, `<bpmn:boundaryEvent id="B" attachedToRef="Ghost"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`),
			[]string{"Element: B\n", "'Ghost'"}},
		{"boundary attached to a gateway", model(errDef, `<bpmn:parallelGateway id="G"/><bpmn:boundaryEvent id="B" attachedToRef="G"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`),
			[]string{"Element: B\n", "'G' must reference an activity"}},
		{"boundary with incoming flow", model(errDef, `<bpmn:startEvent id="S"/>`+task("A", "", "")+`<bpmn:boundaryEvent id="B" attachedToRef="A"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`+flow("F", "S", "B")),
			[]string{"Element: B\n", "incoming"}},
		{"bad activityRef: unknown", model("", compensable+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/><bpmn:intermediateThrowEvent id="Th"><bpmn:compensateEventDefinition activityRef="Ghost"/></bpmn:intermediateThrowEvent>`),
			[]string{"Element: Th\n", "activityRef 'Ghost'"}},
		{"bad activityRef: no compensation boundary", model("", compensable+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/>`+task("Other", "", "")+
			`<bpmn:endEvent id="End"><bpmn:compensateEventDefinition activityRef="Other"/></bpmn:endEvent>`),
			[]string{"Element: End\n", "'Other'", "no compensation boundary event"}},
		{"bad activityRef: not an activity", model("", `<bpmn:parallelGateway id="G"/><bpmn:intermediateThrowEvent id="Th"><bpmn:compensateEventDefinition activityRef="G"/></bpmn:intermediateThrowEvent>`),
			[]string{"Element: Th\n", "activityRef 'G'"}},
		{"waitForCompletion false", model("", `<bpmn:intermediateThrowEvent id="Th"><bpmn:compensateEventDefinition waitForCompletion="false"/></bpmn:intermediateThrowEvent>`),
			[]string{"Element: Th\n", "waitForCompletion"}},
		{"compensation boundary without association", model("", compensable),
			[]string{"Element: BA\n", "association"}},
		{"compensation boundary associated with two handlers", model("", compensable+task("Undo2", ` isForCompensation="true"`, "")+
			`<bpmn:association id="As1" sourceRef="BA" targetRef="UndoA"/><bpmn:association id="As2" sourceRef="BA" targetRef="Undo2"/>`),
			[]string{"Element: BA\n", "exactly one"}},
		{"compensation handler without isForCompensation", model("", task("A", "", "")+`<bpmn:boundaryEvent id="BA" attachedToRef="A"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>`+
			task("Undo", "", "")+`<bpmn:association id="As" sourceRef="BA" targetRef="Undo"/>`),
			[]string{"Element: BA\n", "'Undo'", "isForCompensation"}},
		{"compensation boundary with outgoing flow", model("", compensable+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/><bpmn:endEvent id="E"/>`+flow("F", "BA", "E")),
			[]string{"Element: BA\n", "outgoing"}},
		{"two compensation boundaries on one activity", model("", compensable+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/>`+
			`<bpmn:boundaryEvent id="BA2" attachedToRef="A"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent><bpmn:association id="As2" sourceRef="BA2" targetRef="UndoA"/>`),
			[]string{"Element: BA2\n", "'BA'"}},
		{"compensation handler with a flow", model("", compensable+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/><bpmn:endEvent id="E"/>`+flow("F", "UndoA", "E")),
			[]string{"Element: UndoA\n", "compensation handler"}},
		{"compensation handler with a boundary event", model(errDef, compensable+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/>`+
			`<bpmn:boundaryEvent id="BU" attachedToRef="UndoA"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`),
			[]string{"Element: UndoA\n", "no boundary events"}},
		{"duplicate element ids", model("", task("A", "", "")+`<bpmn:endEvent id="A"/>`),
			[]string{"Element: A\n", "more than one element"}},
		{"flow id equal to an element id", model("", `<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>`+flow("S", "S", "E")),
			[]string{"Element: S\n", "more than one element"}},
		{"unknown flow source", model("", `<bpmn:endEvent id="E"/>`+flow("F", "Ghost", "E")),
			[]string{"Element: F\n", "sourceRef 'Ghost'"}},
		{"unknown flow target", model("", `<bpmn:startEvent id="S"/>`+flow("F", "S", "Ghost")),
			[]string{"Element: F\n", "targetRef 'Ghost'"}},
		{"flow without target", model("", `<bpmn:startEvent id="S"/><bpmn:sequenceFlow id="F" sourceRef="S"/>`),
			[]string{"Element: F\n", "'targetRef' must be present"}},
		{"flow into a start event", model("", `<bpmn:startEvent id="S"/><bpmn:parallelGateway id="G"/>`+flow("F", "G", "S")),
			[]string{"Element: S\n", "incoming"}},
		{"flow out of an end event", model("", `<bpmn:endEvent id="E"/><bpmn:parallelGateway id="G"/>`+flow("F", "E", "G")),
			[]string{"Element: E\n", "outgoing"}},
		{"two none start events", model("", `<bpmn:startEvent id="S1"/><bpmn:startEvent id="S2"/>`),
			[]string{"Element: S2\n", "'S1'", "Multiple none start events"}},
		{"default flow not leaving the gateway", model("", `<bpmn:exclusiveGateway id="G" default="F2"/><bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>`+flow("F1", "G", "E")+flow("F2", "S", "E")),
			[]string{"Element: G\n", "'F2' must start at the gateway"}},
		{"unknown default flow", model("", `<bpmn:exclusiveGateway id="G" default="Ghost"/>`),
			[]string{"Element: G\n", "'Ghost'"}},
		{"gateway flow without condition", model("", `<bpmn:exclusiveGateway id="G"/><bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>`+cond("F1", "G", "E1", "=a")+flow("F2", "G", "E2")),
			[]string{"Element: F2\n", "condition or be the default flow of gateway 'G'"}},
		{"condition on a flow not leaving an exclusive gateway", model("", `<bpmn:parallelGateway id="G"/><bpmn:endEvent id="E"/>`+cond("F", "G", "E", "=a")),
			[]string{"Element: F\n", "only supported when leaving an exclusive gateway"}},
		{"static condition", model("", `<bpmn:exclusiveGateway id="G"/><bpmn:endEvent id="E"/>`+cond("F", "G", "E", "x > 5")),
			[]string{"Element: F\n", "static value 'x > 5'"}},
		{"multi-instance without loopCharacteristics", model("", mi("", "")),
			[]string{"MI > multiInstanceLoopCharacteristics", "'zeebe:loopCharacteristics'"}},
		{"multi-instance without inputCollection", model("", mi("", `<zeebe:loopCharacteristics inputElement="x"/>`)),
			[]string{"MI", "'inputCollection'", "not empty"}},
		{"multi-instance with a static inputCollection", model("", mi("", `<zeebe:loopCharacteristics inputCollection="items"/>`)),
			[]string{"MI", "inputCollection", "static value 'items'"}},
		{"multi-instance outputCollection without outputElement", model("", mi("", `<zeebe:loopCharacteristics inputCollection="=items" outputCollection="out"/>`)),
			[]string{"MI", "both be set or both be absent"}},
		{"multi-instance outputElement without outputCollection", model("", mi("", `<zeebe:loopCharacteristics inputCollection="=items" outputElement="=x"/>`)),
			[]string{"MI", "both be set or both be absent"}},
		{"multi-instance invalid inputElement", model("", mi("", `<zeebe:loopCharacteristics inputCollection="=items" inputElement="=item"/>`)),
			[]string{"MI", "'inputElement'", "'=item'"}},
		{"multi-instance static completion condition", model("", mi(`<bpmn:completionCondition>true</bpmn:completionCondition>`, `<zeebe:loopCharacteristics inputCollection="=items"/>`)),
			[]string{"MI", "completionCondition", "static value 'true'"}},
		{"multi-instance loopCardinality", model("", mi(`<bpmn:loopCardinality>3</bpmn:loopCardinality>`, `<zeebe:loopCharacteristics inputCollection="=items"/>`)),
			[]string{"MI > multiInstanceLoopCharacteristics", "'loopCardinality' is not supported"}},
		{"multi-instance on a gateway", model("", `<bpmn:parallelGateway id="G"><bpmn:multiInstanceLoopCharacteristics/></bpmn:parallelGateway>`),
			[]string{"Element: G\n", "'parallelGateway' with 'multiInstanceLoopCharacteristics'"}},
		{"message without correlation key", model(`<bpmn:message id="M" name="m"/>`, `<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`),
			[]string{"Element: M > extensionElements", "'zeebe:subscription'"}},
		{"message with an empty correlation key", model(`<bpmn:message id="M" name="m"><bpmn:extensionElements><zeebe:subscription correlationKey=""/></bpmn:extensionElements></bpmn:message>`, `<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`),
			[]string{"Element: M > extensionElements", "'correlationKey'"}},
		{"message without name", model(`<bpmn:message id="M"><bpmn:extensionElements><zeebe:subscription correlationKey="=k"/></bpmn:extensionElements></bpmn:message>`, `<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`),
			[]string{"Element: M\n", "'name'"}},
		{"unknown messageRef", model("", `<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="Ghost"/></bpmn:intermediateCatchEvent>`),
			[]string{"Element: C\n", "'Ghost'", "bpmn:message"}},
		{"message catch without messageRef", model("", `<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>`),
			[]string{"Element: C\n", "messageRef"}},
		{"invalid static timer duration", model("", `<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration>5 minutes</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`),
			[]string{"Element: W\n", "'5 minutes'"}},
		{"empty ISO duration", model("", `<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration>PT</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`),
			[]string{"Element: W\n", "'PT'"}},
		{"timer without timeDuration", model("", `<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>`),
			[]string{"Element: W\n", "'timeDuration'"}},
		{"two ioMappings", model("", `<bpmn:endEvent id="E"><bpmn:extensionElements><zeebe:ioMapping/><zeebe:ioMapping/></bpmn:extensionElements></bpmn:endEvent>`),
			[]string{"Element: E > extensionElements", "at most one 'zeebe:ioMapping'"}},
		{"two taskHeaders", model("", `<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="a"/><zeebe:taskHeaders/><zeebe:taskHeaders/></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Element: Task_A > extensionElements", "at most one 'zeebe:taskHeaders'"}},
		{"flow without id", model("", `<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/><bpmn:sequenceFlow sourceRef="S" targetRef="E"/>`),
			[]string{"Element: sequenceFlow at line", "'id'"}},
		{"error end event with unknown errorRef", model("", `<bpmn:endEvent id="E"><bpmn:errorEventDefinition errorRef="Ghost"/></bpmn:endEvent>`),
			[]string{"Element: E\n", "'Ghost'"}},
		{"empty timer duration", model("", `<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration> </bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`),
			[]string{"Element: W\n", "'timeDuration' must not be empty"}},
		{"process without id", []byte(head + `<bpmn:process isExecutable="true"/></bpmn:definitions>`),
			[]string{"Element: process at line 3", "'id'"}},
		{"invalid boolean", []byte(head + `<bpmn:process id="proc" isExecutable="yes"/></bpmn:definitions>`),
			[]string{"Element: proc\n", "'isExecutable'", "'yes'"}},
		{"flow node without id", model("", `<bpmn:serviceTask><bpmn:extensionElements><zeebe:taskDefinition type="a"/></bpmn:extensionElements></bpmn:serviceTask>`),
			[]string{"Element: serviceTask at line", "'id'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := problems(t, tt.data)
			if tt.name == "invalid boolean" {
				require.Len(t, probs, 2, strings.Join(probs, "\n")) // plus: no executable process
			} else {
				require.Len(t, probs, 1, strings.Join(probs, "\n"))
			}
			for _, w := range tt.want {
				assert.Contains(t, probs[0], w)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	probs := problems(t, model("", `<bpmn:serviceTask id="T1"/><bpmn:transaction id="U"/><bpmn:serviceTask id="T2"/>`))
	require.Len(t, probs, 3, strings.Join(probs, "\n"))
	assert.Contains(t, probs[0], "Element: U\n", "flow nodes are registered first")
	assert.Contains(t, probs[1], "Element: T1 >")
	assert.Contains(t, probs[2], "Element: T2 >")
}

func TestParseDocumentProblems(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"unclosed element", head + "<bpmn:process id=\"p\" isExecutable=\"true\">\n<bpmn:startEvent id=\"S\">\n</bpmn:process>\n</bpmn:definitions>", []string{"Malformed XML at line 5", "startEvent"}},
		{"not XML", "this is not xml", []string{"Malformed XML at line 1"}},
		{"empty", "", []string{"Malformed XML", "no root element"}},
		{"truncated", head + `<bpmn:process id="p" isExecutable="true">`, []string{"Malformed XML", "unexpected EOF"}},
		{"two roots", head + "</bpmn:definitions>\n<bpmn:definitions/>", []string{"Malformed XML at line 4", "more than one root element"}},
		{"bad attribute", "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" id=>", []string{"Malformed XML at line 1"}},
		{"wrong root", `<definitions xmlns="http://www.omg.org/spec/DD/20100524/DC"/>`, []string{"root element must be 'definitions'", "http://www.omg.org/spec/DD/20100524/DC"}},
		{"BPMN prefix bound to another namespace", `<bpmn:definitions xmlns:bpmn="urn:other"><bpmn:process id="p" isExecutable="true"/></bpmn:definitions>`, []string{"root element must be 'definitions'", "urn:other"}},
		{"no executable process", head + `<bpmn:process id="p" isExecutable="false"><bpmn:startEvent id="S"/></bpmn:process><bpmn:process id="q"/></bpmn:definitions>`, []string{"Must contain at least one executable process"}},
		{"no process at all", head + `<bpmn:error id="e" errorCode="x"/></bpmn:definitions>`, []string{"Must contain at least one executable process"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := problems(t, []byte(tt.data))
			require.Len(t, probs, 1, strings.Join(probs, "\n"))
			for _, w := range tt.want {
				assert.Contains(t, probs[0], w)
			}
		})
	}
}

func TestParseAcceptsByteOrderMark(t *testing.T) {
	parseOne(t, append([]byte("\xef\xbb\xbf"), model("", `<bpmn:startEvent id="S"/>`)...))
}
