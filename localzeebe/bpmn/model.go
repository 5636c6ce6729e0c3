package bpmn

import "strings"

// ElementType values are Zeebe's bpmnElementType names, so records can carry them unchanged.
type ElementType string

const (
	Process                ElementType = "PROCESS"
	StartEvent             ElementType = "START_EVENT"
	EndEvent               ElementType = "END_EVENT"
	ServiceTask            ElementType = "SERVICE_TASK"
	UserTask               ElementType = "USER_TASK"
	SendTask               ElementType = "SEND_TASK"
	ScriptTask             ElementType = "SCRIPT_TASK"
	BusinessRuleTask       ElementType = "BUSINESS_RULE_TASK"
	ReceiveTask            ElementType = "RECEIVE_TASK"
	ManualTask             ElementType = "MANUAL_TASK"
	Task                   ElementType = "TASK"        // bpmn:task, the undefined task
	SubProcess             ElementType = "SUB_PROCESS" // embedded subprocess
	EventSubProcess        ElementType = "EVENT_SUB_PROCESS"
	CallActivity           ElementType = "CALL_ACTIVITY"
	ExclusiveGateway       ElementType = "EXCLUSIVE_GATEWAY"
	ParallelGateway        ElementType = "PARALLEL_GATEWAY"
	EventBasedGateway      ElementType = "EVENT_BASED_GATEWAY"
	BoundaryEvent          ElementType = "BOUNDARY_EVENT"
	IntermediateCatchEvent ElementType = "INTERMEDIATE_CATCH_EVENT"
	IntermediateThrowEvent ElementType = "INTERMEDIATE_THROW_EVENT"
	SequenceFlowType       ElementType = "SEQUENCE_FLOW"
	MultiInstanceBody      ElementType = "MULTI_INSTANCE_BODY"
)

// IsActivity reports whether t is a task: what boundary events attach to,
// what compensation handlers and multi-instance markers apply to.
func (t ElementType) IsActivity() bool {
	switch t {
	case ServiceTask, UserTask, SendTask, ScriptTask, BusinessRuleTask, ReceiveTask, ManualTask, Task, SubProcess, CallActivity:
		return true
	}
	return false
}

// InEventSubprocess reports whether e is the start event of an event subprocess.
func (e *Element) InEventSubprocess() bool {
	return e.Type == StartEvent && e.Parent != nil && e.Parent.Type == EventSubProcess
}

// UserTaskJobType is the job type of a job-based user task (one without
// zeebe:userTask), as Zeebe 8.5 creates it.
const UserTaskJobType = "io.camunda.zeebe:userTask"

// EventType values are Zeebe's bpmnEventType names.
type EventType string

const (
	EventUnspecified  EventType = "UNSPECIFIED" // tasks and gateways
	EventNone         EventType = "NONE"
	EventError        EventType = "ERROR"
	EventMessage      EventType = "MESSAGE"
	EventTimer        EventType = "TIMER"
	EventCompensation EventType = "COMPENSATION"
	EventTerminate    EventType = "TERMINATE"
	EventSignal       EventType = "SIGNAL"
	EventEscalation   EventType = "ESCALATION"
	EventLink         EventType = "LINK"
)

// Definitions is one parsed and validated BPMN resource.
type Definitions struct {
	Processes []*ProcessDef // only isExecutable="true" processes, in document order
}

// ProcessDef is one executable process.
type ProcessDef struct {
	ID, Name  string
	Elements  map[string]*Element      // every flow node by id (not sequence flows)
	Flows     map[string]*SequenceFlow // by id
	Children  []*Element               // the process's direct flow nodes in document order, boundary events included
	NoneStart *Element                 // the none start event, nil if none
	// MessageStarts are the process's message start events in document order,
	// each with a static MessageName unique in the process.
	MessageStarts []*Element
	// TimerStarts are the process's timer start events in document order,
	// each with one static TimerDate, TimerCycle or TimerDuration.
	TimerStarts []*Element
	// SignalStarts are the process's signal start events in document order,
	// each with a static SignalName unique in the process.
	SignalStarts []*Element
	// EventSubs are the process's event subprocesses in document order.
	EventSubs []*Element
}

// SequenceFlow connects two flow nodes of the same process.
type SequenceFlow struct {
	ID        string
	Source    *Element
	Target    *Element
	Condition string // conditionExpression text trimmed, always starting with '='; "" if none
}

// Mapping is one zeebe:input or zeebe:output. Source is as written: "=expr" is FEEL,
// anything else a static string, "" is allowed (the target is set to null).
type Mapping struct{ Source, Target string }

// Header is one zeebe:header; duplicate keys are kept in document order.
type Header struct{ Key, Value string }

// MultiInstance holds a service task's multiInstanceLoopCharacteristics.
type MultiInstance struct {
	Sequential                                                     bool
	InputCollection, InputElement, OutputCollection, OutputElement string // as written in zeebe:loopCharacteristics
	CompletionCondition                                            string // text of bpmn:completionCondition trimmed, "" if none
}

// Element is a flow node. Which fields are set depends on Type and EventType.
type Element struct {
	ID, Name  string
	Type      ElementType
	EventType EventType // EventUnspecified for tasks/gateways; EventNone/EventError/... for events

	// Parent is the embedded or event subprocess the element is in, nil at the process level.
	Parent *Element
	// Embedded subprocesses: their direct flow nodes in document order and their none start event.
	Children  []*Element
	NoneStart *Element
	// Embedded and event subprocesses: the event subprocesses directly inside, document order.
	EventSubs []*Element
	// Event subprocesses: their one start event, which has an event
	// definition; its CancelActivity is its isInterrupting.
	EventStart *Element

	// Incoming and Outgoing follow the document order of the sequenceFlow elements.
	Incoming, Outgoing []*SequenceFlow
	Default            *SequenceFlow // exclusive gateway default flow, nil if none

	// Job-based elements: service, send, business-rule and script tasks with a
	// zeebe:taskDefinition, message throw and end events, and job-based user
	// tasks (JobType UserTaskJobType, JobRetries "1"). JobType is "" for every
	// other element.
	JobType, JobRetries string // zeebe:taskDefinition as written; JobRetries is "3" when the attribute is absent
	Headers             []Header
	UserTask            *UserTaskProps // user task (job-based or Zeebe): its form, assignment and schedule; nil otherwise

	// Script task with zeebe:script: the FEEL expression ("=..." as written)
	// and the variable its result goes to; a business rule task with
	// zeebe:calledDecision: the decision id (static or "=expr") and the same.
	Script, ResultVariable string
	CalledDecisionID       string
	Inputs, Outputs        []Mapping      // zeebe:ioMapping; kept on any element type that carries one
	Boundaries             []*Element     // boundary events attached to this activity, document order
	IsForCompensation      bool           // a compensation handler: no flows, no boundary events
	MultiInstance          *MultiInstance // nil if none

	// Boundary events, and the start events of event subprocesses.
	AttachedTo     *Element
	CancelActivity bool // false for a non-interrupting boundary event or event subprocess start event

	// Error events (boundary catch, end throw).
	ErrorCode string // errorCode of the referenced bpmn:error, "" for a catch-all
	CatchAll  bool   // error boundary catching every code

	// Escalation events: the escalationCode of the referenced bpmn:escalation,
	// static or "=expr" on throw events, static on catch events, where "" is
	// a catch-all (and EscalationCatchAll is set).
	EscalationCode     string
	EscalationCatchAll bool

	// Link events: the linkEventDefinition name, and for a throw event the
	// catch event of the same scope with that name.
	LinkName   string
	LinkTarget *Element

	// Compensation.
	CompensationHandler *Element // compensation boundary event: the handler its association targets
	ActivityRef         string   // compensation throw/end event: the activity to compensate, "" = all

	// Message catch events and receive tasks.
	MessageName, CorrelationKey string // bpmn:message name and zeebe:subscription correlationKey, as written

	// Signal events (start, catch, boundary, throw, end): the bpmn:signal
	// name as written, static or "=expr" (static on start events).
	SignalName string

	// Call activities: zeebe:calledElement processId as written (static or
	// "=expr"), and its propagation flags (both default to true).
	CalledProcessID                                         string
	PropagateAllChildVariables, PropagateAllParentVariables bool

	// Timer boundary and timer intermediate catch.
	TimerDuration string // timeDuration text trimmed: a static ISO 8601 duration or "=expr"
	// Non-interrupting timer boundary: timeCycle text trimmed, a static
	// "R<n>/<duration>" ("R/<duration>" repeats for ever) or "=expr".
	TimerCycle string
	// Timer start event: timeDate text trimmed, a static ISO 8601 date-time with an offset.
	TimerDate string
}

// JobBased reports whether the element is executed through a job.
func (e *Element) JobBased() bool { return e.JobType != "" }

// UserTaskProps are a user task's form, assignment and schedule, as written
// (static values or "=expr"); "" means absent. Zeebe 8.5 passes them to a
// job-based user task's job as the reserved io.camunda.zeebe:* headers, and
// to a Zeebe user task's USER_TASK records as fields.
type UserTaskProps struct {
	// Zeebe is a Zeebe user task (zeebe:userTask): a USER_TASK record,
	// completed through the REST API, rather than a job.
	Zeebe                                     bool
	FormKey                                   string // zeebe:formDefinition formKey (job-based)
	FormID                                    string // zeebe:formDefinition formId: a linked form, for both kinds
	ExternalReference                         string // zeebe:formDefinition externalReference (Zeebe user task)
	Assignee, CandidateGroups, CandidateUsers string // zeebe:assignmentDefinition
	DueDate, FollowUpDate                     string // zeebe:taskSchedule
}

// SplitList reads a static candidate list: comma-separated, blanks around the
// items trimmed. ok is false when an item is empty ("a,,b").
func SplitList(s string) (items []string, ok bool) {
	for _, it := range strings.Split(s, ",") {
		it = strings.TrimSpace(it)
		if it == "" {
			return nil, false
		}
		items = append(items, it)
	}
	return items, true
}

// ValidationError lists every problem found in a resource. Each problem names the
// element id it is about, except the document-level ones (malformed XML, no executable process).
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// Option configures Parse.
type Option func(*options)

type options struct {
	check func(expr string) error
}

// WithExpressionCheck makes Parse pass every expression value (one starting with '=')
// to check, exactly as it is stored in the returned model ('=' included; condition,
// completion-condition and timer texts trimmed). A non-nil error fails validation with a
// problem naming the element id and the attribute. The values checked are conditions,
// mapping sources, job type and retries, message names and correlation keys, input
// collections, output elements, completion conditions, timer durations and thrown error codes.
func WithExpressionCheck(check func(expr string) error) Option {
	return func(o *options) { o.check = check }
}
