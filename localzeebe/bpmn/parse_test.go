package bpmn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const head = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs">
`

// model wraps root-level elements and the body of process "p" into a resource.
func model(roots, body string) []byte {
	return []byte(head + roots + "\n<bpmn:process id=\"p\" isExecutable=\"true\">\n" + body + "\n</bpmn:process>\n</bpmn:definitions>\n")
}

// task is a valid service task of job type "work"; attrs go into the start tag, inner after the extensions.
func task(id, attrs, inner string) string {
	return `<bpmn:serviceTask id="` + id + `"` + attrs + `><bpmn:extensionElements><zeebe:taskDefinition type="work"/></bpmn:extensionElements>` + inner + `</bpmn:serviceTask>`
}

func flow(id, src, tgt string) string {
	return `<bpmn:sequenceFlow id="` + id + `" sourceRef="` + src + `" targetRef="` + tgt + `"/>`
}

func cond(id, src, tgt, expr string) string {
	return `<bpmn:sequenceFlow id="` + id + `" sourceRef="` + src + `" targetRef="` + tgt + `"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">` + expr + `</bpmn:conditionExpression></bpmn:sequenceFlow>`
}

func parseOne(t *testing.T, data []byte, opts ...Option) *ProcessDef {
	t.Helper()
	defs, err := Parse(data, opts...)
	require.NoError(t, err)
	require.Len(t, defs.Processes, 1)
	return defs.Processes[0]
}

func ids[T interface{ *Element | *SequenceFlow }](items []T) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch v := any(it).(type) {
		case *Element:
			out = append(out, v.ID)
		case *SequenceFlow:
			out = append(out, v.ID)
		}
	}
	return out
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func TestParseTripBooking(t *testing.T) {
	p := parseOne(t, readTestdata(t, "trip-booking.bpmn"))
	assert.Equal(t, "trip-booking", p.ID)
	assert.Equal(t, "Trip booking", p.Name)
	assert.Equal(t, []string{
		"StartEvent_TripRequested", "Task_BookHotel", "Task_BookCar", "Task_BookFlight", "EndEvent_TripBooked",
		"Boundary_CompensateHotel", "Boundary_CompensateCar", "Boundary_FlightUnavailable",
		"Task_CancelHotel", "Task_CancelCar", "Event_CompensateBookings", "EndEvent_TripCancelled",
	}, ids(p.Children))
	assert.Len(t, p.Elements, 12)
	assert.Len(t, p.Flows, 6)
	require.NotNil(t, p.NoneStart)
	assert.Equal(t, "StartEvent_TripRequested", p.NoneStart.ID)
	assert.Equal(t, EventNone, p.NoneStart.EventType)

	hotel := p.Elements["Task_BookHotel"]
	assert.Equal(t, ServiceTask, hotel.Type)
	assert.Equal(t, EventUnspecified, hotel.EventType)
	assert.Equal(t, "lambda", hotel.JobType)
	assert.Equal(t, "3", hotel.JobRetries)
	assert.Equal(t, []Header{{Key: "identifier", Value: "book-hotel"}}, hotel.Headers)
	assert.Equal(t, []string{"Flow_ToBookHotel"}, ids(hotel.Incoming))
	assert.Equal(t, []string{"Flow_ToBookCar"}, ids(hotel.Outgoing))
	assert.Equal(t, []string{"Boundary_CompensateHotel"}, ids(hotel.Boundaries))
	assert.False(t, hotel.IsForCompensation)
	assert.Nil(t, hotel.MultiInstance)

	for boundary, handler := range map[string]string{"Boundary_CompensateHotel": "Task_CancelHotel", "Boundary_CompensateCar": "Task_CancelCar"} {
		b := p.Elements[boundary]
		assert.Equal(t, BoundaryEvent, b.Type)
		assert.Equal(t, EventCompensation, b.EventType)
		require.NotNil(t, b.CompensationHandler, boundary)
		assert.Equal(t, handler, b.CompensationHandler.ID)
		assert.True(t, b.CompensationHandler.IsForCompensation)
		assert.Empty(t, b.CompensationHandler.Incoming)
		assert.Empty(t, b.CompensationHandler.Outgoing)
		assert.Empty(t, b.Outgoing)
	}
	assert.Equal(t, "Task_BookCar", p.Elements["Boundary_CompensateCar"].AttachedTo.ID)

	flight := p.Elements["Boundary_FlightUnavailable"]
	assert.Equal(t, EventError, flight.EventType)
	assert.Equal(t, "FLIGHT_UNAVAILABLE", flight.ErrorCode)
	assert.False(t, flight.CatchAll)
	assert.True(t, flight.CancelActivity)
	assert.Same(t, p.Elements["Task_BookFlight"], flight.AttachedTo)
	assert.Equal(t, []string{"Boundary_FlightUnavailable"}, ids(p.Elements["Task_BookFlight"].Boundaries))
	assert.Equal(t, []string{"Flow_ToCompensate"}, ids(flight.Outgoing))

	throw := p.Elements["Event_CompensateBookings"]
	assert.Equal(t, IntermediateThrowEvent, throw.Type)
	assert.Equal(t, EventCompensation, throw.EventType)
	assert.Empty(t, throw.ActivityRef)

	f := p.Flows["Flow_ToCompensate"]
	assert.Same(t, flight, f.Source)
	assert.Same(t, throw, f.Target)
	assert.Empty(t, f.Condition)
	assert.Equal(t, EndEvent, p.Elements["EndEvent_TripCancelled"].Type)
	assert.Equal(t, EventNone, p.Elements["EndEvent_TripCancelled"].EventType)
}

func TestParseBoundaryExample(t *testing.T) {
	p := parseOne(t, readTestdata(t, "boundary.bpmn"))
	assert.Equal(t, "PROCESS_ID", p.ID)
	work := p.Elements["Task_Work"]
	assert.Equal(t, "JOB_TYPE", work.JobType)
	assert.Equal(t, []Header{{Key: "identifier", Value: "work"}}, work.Headers)
	require.Len(t, work.Boundaries, 1)
	b := work.Boundaries[0]
	assert.Equal(t, "Boundary_Error", b.ID)
	assert.Equal(t, "BUSINESS_ERROR", b.ErrorCode)
	assert.Equal(t, []string{"F3"}, ids(b.Outgoing))
	handle := p.Elements["Task_Handle"]
	assert.Equal(t, "JOB_TYPE-handled", handle.JobType)
	assert.Equal(t, "3", handle.JobRetries, "retries default to 3 when the attribute is absent")
	assert.Empty(t, handle.Headers)
	assert.Same(t, handle, b.Outgoing[0].Target)
}

func TestParseTasksExample(t *testing.T) {
	p := parseOne(t, readTestdata(t, "tasks.bpmn"))
	fork, join := p.Elements["Fork"], p.Elements["Join"]
	assert.Equal(t, ParallelGateway, fork.Type)
	assert.Equal(t, []string{"F1", "F2", "F3"}, ids(fork.Outgoing))
	assert.Equal(t, []string{"F4", "F5", "F6"}, ids(join.Incoming))
	assert.Equal(t, []Header{{Key: "identifier", Value: "fn-timeout"}, {Key: "timeout", Value: "PT7M"}}, p.Elements["Task_Timeout"].Headers)
	assert.Empty(t, p.Elements["Task_NoIdentifier"].Headers)
}

func TestParseSupported(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		check func(t *testing.T, p *ProcessDef)
	}{
		{
			name: "service task with retries, headers and mappings",
			data: model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements>
				<zeebe:taskDefinition type="=jobType" retries="5"/>
				<zeebe:taskHeaders><zeebe:header key="b" value="2"/><zeebe:header key="a" value="1"/></zeebe:taskHeaders>
				<zeebe:ioMapping>
					<zeebe:input source="=customer.name" target="sender"/>
					<zeebe:input source="static" target="mode.kind"/>
					<zeebe:output source="=status" target="paymentStatus"/>
				</zeebe:ioMapping>
				<zeebe:properties><zeebe:property name="x" value="y"/></zeebe:properties>
			</bpmn:extensionElements></bpmn:serviceTask>`),
			check: func(t *testing.T, p *ProcessDef) {
				e := p.Elements["T"]
				assert.Equal(t, "=jobType", e.JobType)
				assert.Equal(t, "5", e.JobRetries)
				assert.Equal(t, []Header{{"b", "2"}, {"a", "1"}}, e.Headers)
				assert.Equal(t, []Mapping{{"=customer.name", "sender"}, {"static", "mode.kind"}}, e.Inputs)
				assert.Equal(t, []Mapping{{"=status", "paymentStatus"}}, e.Outputs)
				assert.Nil(t, p.NoneStart, "a process without a none start event deploys")
			},
		},
		{
			name: "job-based user task: the job type and one retry of Zeebe 8.5, assignment, schedule and form as written",
			data: model("", `<bpmn:userTask id="U"><bpmn:extensionElements>
				<zeebe:formDefinition formKey="camunda-forms:bpmn:form1"/>
				<zeebe:assignmentDefinition assignee="=owner" candidateGroups="sales, ops" candidateUsers="=reviewers"/>
				<zeebe:taskSchedule dueDate="2023-03-02T15:35+02:00" followUpDate="=now()"/>
				<zeebe:taskHeaders><zeebe:header key="h" value="v"/></zeebe:taskHeaders>
				<zeebe:ioMapping><zeebe:input source="=a" target="b"/></zeebe:ioMapping>
			</bpmn:extensionElements></bpmn:userTask><bpmn:userTask id="Bare"/>`),
			check: func(t *testing.T, p *ProcessDef) {
				u := p.Elements["U"]
				assert.Equal(t, UserTask, u.Type)
				assert.True(t, u.JobBased())
				assert.Equal(t, UserTaskJobType, u.JobType)
				assert.Equal(t, "1", u.JobRetries)
				assert.Equal(t, []Header{{"h", "v"}}, u.Headers)
				assert.Equal(t, []Mapping{{"=a", "b"}}, u.Inputs)
				assert.Equal(t, &UserTaskProps{FormKey: "camunda-forms:bpmn:form1", Assignee: "=owner", CandidateGroups: "sales, ops",
					CandidateUsers: "=reviewers", DueDate: "2023-03-02T15:35+02:00", FollowUpDate: "=now()"}, u.UserTask)
				bare := p.Elements["Bare"]
				assert.Equal(t, UserTaskJobType, bare.JobType)
				assert.Equal(t, &UserTaskProps{}, bare.UserTask)
			},
		},
		{
			name: "Zeebe user task: no job, a linked or external form, assignment, schedule and headers as written",
			data: model("", `<bpmn:userTask id="Z"><bpmn:extensionElements>
				<zeebe:formDefinition formId="form1"/>
				<zeebe:userTask/>
				<zeebe:assignmentDefinition assignee="demo" candidateGroups="=groups" candidateUsers="a,b"/>
				<zeebe:taskSchedule dueDate="=due" followUpDate="2023-03-02T15:35+02:00"/>
				<zeebe:taskHeaders><zeebe:header key="h" value="v"/></zeebe:taskHeaders>
			</bpmn:extensionElements></bpmn:userTask>
			<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition externalReference="=url"/></bpmn:extensionElements></bpmn:userTask>`),
			check: func(t *testing.T, p *ProcessDef) {
				z := p.Elements["Z"]
				assert.False(t, z.JobBased())
				assert.Equal(t, "", z.JobRetries)
				assert.Equal(t, []Header{{"h", "v"}}, z.Headers)
				assert.Equal(t, &UserTaskProps{Zeebe: true, FormID: "form1", Assignee: "demo", CandidateGroups: "=groups",
					CandidateUsers: "a,b", DueDate: "=due", FollowUpDate: "2023-03-02T15:35+02:00"}, z.UserTask)
				assert.Equal(t, &UserTaskProps{Zeebe: true, ExternalReference: "=url"}, p.Elements["X"].UserTask)
			},
		},
		{
			name: "send, script and business rule tasks and message throw and end events with a task definition are jobs",
			data: model(`<bpmn:message id="M" name="m"/>`, `<bpmn:sendTask id="Se"><bpmn:extensionElements><zeebe:taskDefinition type="send"/></bpmn:extensionElements></bpmn:sendTask>
				<bpmn:scriptTask id="Sc"><bpmn:extensionElements><zeebe:taskDefinition type="script" retries="2"/></bpmn:extensionElements></bpmn:scriptTask>
				<bpmn:businessRuleTask id="BR"><bpmn:extensionElements><zeebe:taskDefinition type="rule"/><zeebe:taskHeaders><zeebe:header key="k" value="v"/></zeebe:taskHeaders></bpmn:extensionElements></bpmn:businessRuleTask>
				<bpmn:intermediateThrowEvent id="MT"><bpmn:extensionElements><zeebe:taskDefinition type="throw"/></bpmn:extensionElements><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateThrowEvent>
				<bpmn:endEvent id="ME"><bpmn:extensionElements><zeebe:taskDefinition type="end"/></bpmn:extensionElements><bpmn:messageEventDefinition/></bpmn:endEvent>`),
			check: func(t *testing.T, p *ProcessDef) {
				for _, c := range []struct {
					id, jobType, retries string
					typ                  ElementType
					ev                   EventType
				}{
					{"Se", "send", "3", SendTask, EventUnspecified},
					{"Sc", "script", "2", ScriptTask, EventUnspecified},
					{"BR", "rule", "3", BusinessRuleTask, EventUnspecified},
					{"MT", "throw", "3", IntermediateThrowEvent, EventMessage},
					{"ME", "end", "3", EndEvent, EventMessage},
				} {
					e := p.Elements[c.id]
					assert.Equal(t, c.typ, e.Type, c.id)
					assert.Equal(t, c.ev, e.EventType, c.id)
					assert.Equal(t, c.jobType, e.JobType, c.id)
					assert.Equal(t, c.retries, e.JobRetries, c.id)
					assert.Nil(t, e.UserTask, c.id)
				}
				assert.Equal(t, []Header{{"k", "v"}}, p.Elements["BR"].Headers)
			},
		},
		{
			name: "undefined and manual tasks pass through; boundary events, compensation and multi-instance on other tasks",
			data: model(`<bpmn:error id="Err" errorCode="E"/>`, `<bpmn:task id="Ta"/><bpmn:manualTask id="Ma"/>
				<bpmn:userTask id="U"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=xs"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
				<bpmn:boundaryEvent id="B" attachedToRef="U"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>
				<bpmn:boundaryEvent id="BC" attachedToRef="Ma"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
				<bpmn:sendTask id="Undo" isForCompensation="true"><bpmn:extensionElements><zeebe:taskDefinition type="undo"/></bpmn:extensionElements></bpmn:sendTask>
				<bpmn:association id="A" sourceRef="BC" targetRef="Undo"/>`),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Equal(t, Task, p.Elements["Ta"].Type)
				assert.Equal(t, ManualTask, p.Elements["Ma"].Type)
				assert.False(t, p.Elements["Ta"].JobBased())
				assert.False(t, p.Elements["Ma"].JobBased())
				assert.Equal(t, []string{"B"}, ids(p.Elements["U"].Boundaries))
				require.NotNil(t, p.Elements["U"].MultiInstance)
				assert.Equal(t, p.Elements["Undo"], p.Elements["BC"].CompensationHandler)
				assert.True(t, p.Elements["Undo"].IsForCompensation)
			},
		},
		{
			name: "receive task and FEEL script task",
			data: model(`<bpmn:message id="M" name="=name"><bpmn:extensionElements><zeebe:subscription correlationKey="=key"/></bpmn:extensionElements></bpmn:message>`,
				`<bpmn:receiveTask id="R" messageRef="M"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=keys" inputElement="key"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:receiveTask>
				<bpmn:scriptTask id="Sc"><bpmn:extensionElements><zeebe:script expression="=a + 1" resultVariable="sum"/><zeebe:ioMapping><zeebe:output source="=sum" target="total"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:scriptTask>`),
			check: func(t *testing.T, p *ProcessDef) {
				r := p.Elements["R"]
				assert.Equal(t, ReceiveTask, r.Type)
				assert.Equal(t, EventUnspecified, r.EventType)
				assert.Equal(t, "=name", r.MessageName)
				assert.Equal(t, "=key", r.CorrelationKey)
				assert.NotNil(t, r.MultiInstance)
				assert.False(t, r.JobBased())
				sc := p.Elements["Sc"]
				assert.Equal(t, ScriptTask, sc.Type)
				assert.False(t, sc.JobBased())
				assert.Equal(t, "=a + 1", sc.Script)
				assert.Equal(t, "sum", sc.ResultVariable)
				assert.Equal(t, []Mapping{{"=sum", "total"}}, sc.Outputs)
			},
		},
		{
			name: "exclusive gateway with conditions and default flow",
			data: model("", `<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G" default="F_else"><bpmn:outgoing>wrong</bpmn:outgoing></bpmn:exclusiveGateway>`+
				task("A", "", "")+task("B", "", "")+task("C", "", "")+
				flow("F0", "S", "G")+cond("F_big", "G", "A", "\n  = x &gt; 5\n")+flow("F_else", "G", "B")+
				cond("F_small", "G", "C", "<![CDATA[= x < 2]]>")),
			check: func(t *testing.T, p *ProcessDef) {
				g := p.Elements["G"]
				assert.Equal(t, ExclusiveGateway, g.Type)
				assert.Equal(t, EventUnspecified, g.EventType)
				assert.Equal(t, []string{"F_big", "F_else", "F_small"}, ids(g.Outgoing), "from the flows, not from <outgoing>")
				assert.Equal(t, []string{"F0"}, ids(g.Incoming))
				require.NotNil(t, g.Default)
				assert.Equal(t, "F_else", g.Default.ID)
				assert.Equal(t, "= x > 5", p.Flows["F_big"].Condition)
				assert.Equal(t, "= x < 2", p.Flows["F_small"].Condition)
				assert.Empty(t, p.Flows["F_else"].Condition)
			},
		},
		{
			name: "single unconditioned flow out of an exclusive gateway",
			data: model("", `<bpmn:exclusiveGateway id="G"/><bpmn:endEvent id="E"/>`+flow("F", "G", "E")),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Nil(t, p.Elements["G"].Default)
				assert.Equal(t, []string{"F"}, ids(p.Elements["E"].Incoming))
			},
		},
		{
			name: "error end event",
			data: model(`<bpmn:error id="Err" errorCode="NOPE"/>`, `<bpmn:endEvent id="E"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>`),
			check: func(t *testing.T, p *ProcessDef) {
				e := p.Elements["E"]
				assert.Equal(t, EndEvent, e.Type)
				assert.Equal(t, EventError, e.EventType)
				assert.Equal(t, "NOPE", e.ErrorCode)
				assert.False(t, e.CatchAll)
			},
		},
		{
			name: "compensation end event and throw event with activityRef",
			data: model("", task("A", "", "")+`<bpmn:boundaryEvent id="BA" attachedToRef="A"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>`+
				task("UndoA", ` isForCompensation="true"`, "")+`<bpmn:association id="As" sourceRef="BA" targetRef="UndoA"/>`+
				`<bpmn:intermediateThrowEvent id="Th"><bpmn:compensateEventDefinition activityRef="A" waitForCompletion="true"/></bpmn:intermediateThrowEvent>`+
				`<bpmn:endEvent id="E"><bpmn:compensateEventDefinition/></bpmn:endEvent>`+flow("F1", "A", "Th")+flow("F2", "Th", "E")),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Equal(t, EventCompensation, p.Elements["Th"].EventType)
				assert.Equal(t, "A", p.Elements["Th"].ActivityRef)
				assert.Equal(t, EventCompensation, p.Elements["E"].EventType)
				assert.Empty(t, p.Elements["E"].ActivityRef)
				assert.Same(t, p.Elements["UndoA"], p.Elements["BA"].CompensationHandler)
			},
		},
		{
			name: "error boundary events: specific code, catch-all without errorRef",
			data: model(`<bpmn:error id="Err" errorCode="E1"/>`, task("A", "", "")+
				`<bpmn:boundaryEvent id="B1" attachedToRef="A" cancelActivity="true"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`+
				`<bpmn:boundaryEvent id="B2" attachedToRef="A"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>`),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Equal(t, []string{"B1", "B2"}, ids(p.Elements["A"].Boundaries))
				assert.Equal(t, "E1", p.Elements["B1"].ErrorCode)
				assert.False(t, p.Elements["B1"].CatchAll)
				assert.Empty(t, p.Elements["B2"].ErrorCode)
				assert.True(t, p.Elements["B2"].CatchAll)
				assert.True(t, p.Elements["B2"].CancelActivity)
			},
		},
		{
			name: "error boundary referencing an error without errorCode catches all",
			data: model(`<bpmn:error id="Err" name="any"/>`, task("A", "", "")+
				`<bpmn:boundaryEvent id="B" attachedToRef="A"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>`),
			check: func(t *testing.T, p *ProcessDef) {
				assert.True(t, p.Elements["B"].CatchAll)
				assert.Empty(t, p.Elements["B"].ErrorCode)
			},
		},
		{
			name: "timer boundary and timer intermediate catch",
			data: model("", task("A", "", "")+
				`<bpmn:boundaryEvent id="B" attachedToRef="A"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression"> PT5M </bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>`+
				`<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration>= wait</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`+
				`<bpmn:intermediateCatchEvent id="W2"><bpmn:timerEventDefinition><bpmn:timeDuration>P1DT2H30.5S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`),
			check: func(t *testing.T, p *ProcessDef) {
				b := p.Elements["B"]
				assert.Equal(t, EventTimer, b.EventType)
				assert.Equal(t, "PT5M", b.TimerDuration)
				assert.True(t, b.CancelActivity)
				assert.Same(t, p.Elements["A"], b.AttachedTo)
				w := p.Elements["W"]
				assert.Equal(t, IntermediateCatchEvent, w.Type)
				assert.Equal(t, EventTimer, w.EventType)
				assert.Equal(t, "= wait", w.TimerDuration)
				assert.Equal(t, "P1DT2H30.5S", p.Elements["W2"].TimerDuration)
			},
		},
		{
			name: "message intermediate catch, message shared by two events",
			data: model(`<bpmn:message id="M" name="money-collected"><bpmn:extensionElements><zeebe:subscription correlationKey="= orderId"/></bpmn:extensionElements></bpmn:message>`,
				`<bpmn:intermediateCatchEvent id="C1"><bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=amount" target="paid"/></zeebe:ioMapping></bpmn:extensionElements><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`+
					`<bpmn:intermediateCatchEvent id="C2"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`),
			check: func(t *testing.T, p *ProcessDef) {
				for _, id := range []string{"C1", "C2"} {
					c := p.Elements[id]
					assert.Equal(t, EventMessage, c.EventType)
					assert.Equal(t, "money-collected", c.MessageName)
					assert.Equal(t, "= orderId", c.CorrelationKey)
				}
				assert.Equal(t, []Mapping{{"=amount", "paid"}}, p.Elements["C1"].Outputs)
			},
		},
		{
			name: "none intermediate throw event",
			data: model("", `<bpmn:startEvent id="S"/><bpmn:intermediateThrowEvent id="N"/><bpmn:endEvent id="E"/>`+flow("F1", "S", "N")+flow("F2", "N", "E")),
			check: func(t *testing.T, p *ProcessDef) {
				n := p.Elements["N"]
				assert.Equal(t, IntermediateThrowEvent, n.Type)
				assert.Equal(t, EventNone, n.EventType)
				assert.Same(t, p.Elements["E"], n.Outgoing[0].Target)
			},
		},
		{
			name: "sequential multi-instance with output and completion condition",
			data: model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="work"/></bpmn:extensionElements>
				<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:extensionElements>
					<zeebe:loopCharacteristics inputCollection="= items" inputElement="item" outputCollection="results" outputElement="= result"/>
				</bpmn:extensionElements><bpmn:completionCondition xsi:type="bpmn:tFormalExpression"> = result.ok </bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>
			</bpmn:serviceTask>`),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Equal(t, &MultiInstance{
					Sequential: true, InputCollection: "= items", InputElement: "item",
					OutputCollection: "results", OutputElement: "= result", CompletionCondition: "= result.ok",
				}, p.Elements["T"].MultiInstance)
				assert.Equal(t, ServiceTask, p.Elements["T"].Type)
			},
		},
		{
			name: "parallel multi-instance with input collection only",
			data: model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="work"/></bpmn:extensionElements>
				<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=[1,2,3]"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>
			</bpmn:serviceTask>`),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Equal(t, &MultiInstance{InputCollection: "=[1,2,3]"}, p.Elements["T"].MultiInstance)
			},
		},
		{
			name: "only executable processes, in document order",
			data: []byte(head + `<bpmn:process id="draft" isExecutable="false"><bpmn:userTask id="U"/></bpmn:process>
				<bpmn:process id="one" isExecutable="true"><bpmn:startEvent id="S1"/></bpmn:process>
				<bpmn:process id="two" isExecutable="1"><bpmn:startEvent id="S2"/></bpmn:process></bpmn:definitions>`),
			check: nil, // checked below
		},
		{
			name: "namespaces are matched by URI, not prefix; other namespaces, DI and artifacts are ignored",
			data: []byte(`<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:z="http://camunda.org/schema/zeebe/1.0"
  xmlns:bpmn="urn:not-bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  id="D" modeler:executionPlatform="Camunda Cloud">
  <process id="p" isExecutable="true">
    <documentation>Docs</documentation>
    <extensionElements><z:properties><z:property name="a" value="b"/></z:properties><z:versionTag value="v1"/></extensionElements>
    <laneSet id="LS"><lane id="L"><flowNodeRef>S</flowNodeRef></lane></laneSet>
    <startEvent id="S" modeler:foo="bar"><documentation>start</documentation></startEvent>
    <serviceTask id="T"><extensionElements><z:taskDefinition type="w"/><modeler:template id="x"/><bpmn:userTask id="ignored"/></extensionElements></serviceTask>
    <bpmn:subProcess id="not-bpmn-namespace"/>
    <textAnnotation id="Note"><text>hi</text></textAnnotation>
    <association id="A1" sourceRef="T" targetRef="Note"/>
    <sequenceFlow id="F" sourceRef="S" targetRef="T"/>
  </process>
  <bpmndi:BPMNDiagram id="Di"><bpmndi:BPMNPlane id="Pl" bpmnElement="p"><bpmndi:BPMNShape id="Sh" bpmnElement="S"><dc:Bounds x="1" y="2" width="3" height="4"/></bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>`),
			check: func(t *testing.T, p *ProcessDef) {
				assert.Equal(t, []string{"S", "T"}, ids(p.Children))
				assert.Equal(t, "w", p.Elements["T"].JobType)
				assert.Equal(t, []string{"F"}, ids(p.Elements["T"].Incoming))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defs, err := Parse(tt.data)
			require.NoError(t, err)
			if tt.check == nil {
				require.Len(t, defs.Processes, 2)
				assert.Equal(t, "one", defs.Processes[0].ID)
				assert.Equal(t, "two", defs.Processes[1].ID)
				return
			}
			require.Len(t, defs.Processes, 1)
			tt.check(t, defs.Processes[0])
		})
	}
}

func TestParseFlowsOrderedByDocumentOrderOfFlows(t *testing.T) {
	// <incoming>/<outgoing> children are deliberately wrong: the flows are the truth.
	p := parseOne(t, model("", `<bpmn:parallelGateway id="G"><bpmn:outgoing>b</bpmn:outgoing><bpmn:outgoing>a</bpmn:outgoing></bpmn:parallelGateway>
		<bpmn:parallelGateway id="J"/>`+flow("b", "G", "J")+flow("a", "G", "J")+flow("c", "G", "J")))
	assert.Equal(t, []string{"b", "a", "c"}, ids(p.Elements["G"].Outgoing))
	assert.Equal(t, []string{"b", "a", "c"}, ids(p.Elements["J"].Incoming))
}

func TestParseExpressionCheck(t *testing.T) {
	var seen []string
	check := func(expr string) error {
		seen = append(seen, expr)
		if strings.Contains(expr, "bad") {
			return assert.AnError
		}
		return nil
	}
	good := model(`<bpmn:message id="M" name="=msgName"><bpmn:extensionElements><zeebe:subscription correlationKey="=key"/></bpmn:extensionElements></bpmn:message>`,
		`<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="=jt" retries="=r"/>
			<zeebe:ioMapping><zeebe:input source="=in" target="x"/><zeebe:input source="static" target="y"/><zeebe:output source="=out" target="z"/></zeebe:ioMapping></bpmn:extensionElements>
			<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=col" outputCollection="res" outputElement="=el"/></bpmn:extensionElements>
			<bpmn:completionCondition>=done</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>
		<bpmn:exclusiveGateway id="G"/><bpmn:endEvent id="E"/>`+cond("F", "G", "E", " =cond ")+
			`<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>
		<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration>=dur</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`)
	parseOne(t, good, WithExpressionCheck(check))
	assert.ElementsMatch(t, []string{"=msgName", "=key", "=jt", "=r", "=in", "=out", "=col", "=el", "=done", "=cond", "=dur"}, seen,
		"every expression, with its '=', and no static value")

	tests := []struct {
		name      string
		data      []byte
		id, field string
	}{
		{"condition", model("", `<bpmn:exclusiveGateway id="G"/><bpmn:endEvent id="E"/>`+cond("Flow_1", "G", "E", "= bad >")), "Flow_1", "conditionExpression"},
		{"job type", model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="=bad"/></bpmn:extensionElements></bpmn:serviceTask>`), "T", "zeebe:taskDefinition type"},
		{"job retries", model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="a" retries="=bad"/></bpmn:extensionElements></bpmn:serviceTask>`), "T", "zeebe:taskDefinition retries"},
		{"input source", model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="a"/><zeebe:ioMapping><zeebe:input source="=bad(" target="x"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>`), "T", "zeebe:input source"},
		{"output source on an end event", model("", `<bpmn:endEvent id="E"><bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=bad" target="x"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:endEvent>`), "E", "zeebe:output source"},
		{"correlation key", model(`<bpmn:message id="M" name="n"><bpmn:extensionElements><zeebe:subscription correlationKey="=bad"/></bpmn:extensionElements></bpmn:message>`, `<bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>`), "M", "correlationKey"},
		{"input collection", model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="a"/></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=bad"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>`), "T", "inputCollection"},
		{"output element", model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="a"/></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=x" outputCollection="r" outputElement="=bad"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>`), "T", "outputElement"},
		{"completion condition", model("", `<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="a"/></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=x"/></bpmn:extensionElements><bpmn:completionCondition>=bad</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>`), "T", "completionCondition"},
		{"timer duration", model("", task("A", "", "")+`<bpmn:boundaryEvent id="B" attachedToRef="A"><bpmn:timerEventDefinition><bpmn:timeDuration>=bad</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>`), "B", "timeDuration"},
		{"thrown error code", model(`<bpmn:error id="Err" errorCode="=bad"/>`, `<bpmn:endEvent id="E"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>`), "E", "errorCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, WithExpressionCheck(check))
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			require.Len(t, verr.Problems, 1, err.Error())
			assert.Contains(t, verr.Problems[0], "Element: "+tt.id+"\n")
			assert.Contains(t, verr.Problems[0], tt.field)
			assert.Contains(t, verr.Problems[0], assert.AnError.Error())
			_, err = Parse(tt.data)
			assert.NoError(t, err, "without a check, expressions are not looked at")
		})
	}
}

func TestValidDateTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"2023-03-02T15:35+02:00", true},
		{"2023-02-28T09:16:23+02:00", true},
		{"2023-02-28T09:16:23.123456789Z", true},
		{"2023-02-28T09:16:23+01:00[Europe/Paris]", true},
		{"2023-02-28T09:16:23+01:00:30", true},
		{"2023-02-28T09:16:23", false},
		{"2023-02-30T09:16:23Z", false},
		{"2023-02-28T25:16:23Z", false},
		{"2023-02-28", false},
		{"12345", false},
		{"", false},
	} {
		assert.Equal(t, tc.want, ValidDateTime(tc.in), tc.in)
	}
}
