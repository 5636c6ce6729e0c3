package bpmn

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// details reads an element's attributes, extension elements and event definition.
func (b *procBuilder) details(e *Element) {
	n := b.nodes[e]
	b.extensions(e, n)
	b.loopCharacteristics(e, n)
	if e.Type.IsActivity() {
		e.IsForCompensation = b.boolAttr(n, e.ID, "isForCompensation", false)
	}
	switch e.Type {
	case ReceiveTask:
		// The message is referenced by the task itself, as by a catch event's definition.
		b.messageRef(e, n)
	case StartEvent:
		b.startEvent(e, n)
	case EndEvent:
		b.endEvent(e, n)
	case BoundaryEvent:
		b.boundaryEvent(e, n)
	case IntermediateCatchEvent:
		b.catchEvent(e, n)
	case IntermediateThrowEvent:
		b.throwEvent(e, n)
	}
}

// eventDefinition returns the event's single event definition, nil for a none event.
// ok is false when the event has several, which the local engine does not support.
func (b *procBuilder) eventDefinition(e *Element, n *node) (def *node, ok bool) {
	var defs []*node
	for _, c := range n.children {
		if c.space == nsBPMN && (strings.HasSuffix(c.local, "EventDefinition") || c.local == "eventDefinitionRef") {
			defs = append(defs, c)
		}
	}
	if len(defs) > 1 {
		b.unsupported(e.ID, n.local, "with several event definitions")
		return nil, false
	}
	if len(defs) == 1 {
		return defs[0], true
	}
	return nil, true
}

func (b *procBuilder) startEvent(e *Element, n *node) {
	def, ok := b.eventDefinition(e, n)
	if e.InEventSubprocess() {
		if ok {
			b.eventSubprocessStart(e, n, def)
		}
		return
	}
	none := &b.def.NoneStart
	if e.Parent != nil {
		none = &e.Parent.NoneStart
	}
	switch {
	case !ok:
	case def != nil && e.Parent != nil:
		b.add(e.ID, "Start events of an embedded subprocess must be none start events, found '%s'", def.local)
	case def != nil && def.local == "messageEventDefinition":
		e.EventType = EventMessage
		b.messageStart(e, def)
	case def != nil && def.local == "timerEventDefinition":
		e.EventType = EventTimer
		b.timerStart(e, def)
	case def != nil && def.local == "signalEventDefinition":
		e.EventType = EventSignal
		b.signalStart(e, def)
	case def != nil:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	case *none != nil && e.Parent != nil:
		b.add(e.ID, "An embedded subprocess must have exactly one none start event ('%s' is one already)", (*none).ID)
	case *none != nil:
		b.add(e.ID, "Multiple none start events are not allowed in a process ('%s' is one already)", (*none).ID)
	default:
		e.EventType = EventNone
		*none = e
	}
}

// eventSubprocessStart reads the start event of an event subprocess: a
// message, timer, error or signal event, interrupting (the default) or not;
// an error one must interrupt.
func (b *procBuilder) eventSubprocessStart(e *Element, n, def *node) {
	e.CancelActivity = b.boolAttr(n, e.ID, "isInterrupting", true)
	switch {
	case def == nil:
		b.add(e.ID, "The start event of an event subprocess must have an event definition (message, timer, error, signal or escalation)")
		return
	case def.local == "messageEventDefinition":
		e.EventType = EventMessage
		b.messageRef(e, def)
	case def.local == "timerEventDefinition":
		e.EventType = EventTimer
		b.timer(e, n, def)
	case def.local == "signalEventDefinition":
		e.EventType = EventSignal
		b.signalRef(e, def)
	case def.local == "errorEventDefinition" && !e.CancelActivity:
		b.add(e.ID, "An error start event of an event subprocess must be interrupting (isInterrupting=\"false\" is not allowed)")
		return
	case def.local == "errorEventDefinition":
		e.EventType = EventError
		b.catchError(e, def)
	case def.local == "escalationEventDefinition":
		e.EventType = EventEscalation
		b.catchEscalation(e, def)
	default:
		b.unsupported(e.ID, n.local, "in an event subprocess with '"+def.local+"'")
		return
	}
	e.Parent.EventStart = e
}

// timerStart reads a timer start event: exactly one static timeDate,
// timeCycle or timeDuration. Zeebe evaluates an expression here once at
// deployment, without variables; the local engine takes static values only.
func (b *procBuilder) timerStart(e *Element, def *node) {
	var found []*node
	for _, c := range def.children {
		if c.space == nsBPMN && (c.local == "timeDate" || c.local == "timeCycle" || c.local == "timeDuration") {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		b.add(e.ID, "Timer event definitions must have exactly one of 'timeDate', 'timeCycle' or 'timeDuration'")
		return
	}
	c := found[0]
	v := text(c)
	switch {
	case isExpression(v):
		b.add(e.ID, "The timer start event's '%s' must be static for the local engine, found the expression '%s'", c.local, v)
		return
	case c.local == "timeDate" && !ValidDateTime(v):
		b.add(e.ID, "'timeDate' must be an ISO 8601 date-time with an offset such as '2030-01-01T09:00:00Z', found '%s'", v)
		return
	case c.local == "timeDuration" && (!isoDurationPattern.MatchString(v) || strings.EqualFold(strings.TrimLeft(v, "+-"), "P")):
		b.add(e.ID, "'timeDuration' must be an ISO 8601 duration such as 'PT5M', found '%s'", v)
		return
	case c.local == "timeCycle":
		if _, _, ok := ParseCycle(v); !ok {
			b.add(e.ID, "'timeCycle' must be a repeating interval such as 'R3/PT10S' (or 'R/PT10S', for ever), found '%s'; "+
				"the local engine supports neither cron expressions nor start dates", v)
			return
		}
	}
	switch c.local {
	case "timeDate":
		e.TimerDate = v
	case "timeCycle":
		e.TimerCycle = v
	default:
		e.TimerDuration = v
	}
	b.def.TimerStarts = append(b.def.TimerStarts, e)
}

// ParseDateTime parses a date-time ValidDateTime accepts.
func ParseDateTime(s string) (time.Time, bool) {
	if !ValidDateTime(s) {
		return time.Time{}, false
	}
	m := staticDateTime.FindStringSubmatch(s)
	v := s
	if i := strings.IndexByte(v, '['); i >= 0 {
		v = v[:i]
	}
	if m[1] == "" {
		v = v[:16] + ":00" + v[16:]
	}
	if m[4] != "" {
		v = v[:len(v)-3]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// messageStart reads a message start event's message. Zeebe ignores a
// zeebe:subscription correlation key here (the message's correlation key only
// limits instances per key), so none is required.
func (b *procBuilder) messageStart(e *Element, def *node) {
	ref := def.attr("messageRef")
	mn := b.messageNodes[ref]
	switch {
	case ref == "":
		b.add(e.ID, "Message start events must reference a message (messageRef)")
		return
	case mn == nil:
		b.add(e.ID, "messageRef '%s' does not reference a bpmn:message", ref)
		return
	}
	e.MessageName = mn.attr("name")
	switch {
	case e.MessageName == "":
		b.add(ref, "Attribute 'name' must be present and not empty")
		return
	case isExpression(e.MessageName):
		// Zeebe evaluates it once at deployment, without variables; the local engine does not.
		b.add(e.ID, "The message start event's message name must be static for the local engine, found the expression '%s'", e.MessageName)
		return
	}
	for _, o := range b.def.MessageStarts {
		if o.MessageName == e.MessageName {
			b.add(e.ID, "Multiple message event definitions with the same name '%s' are not allowed ('%s' has it already)", e.MessageName, o.ID)
			return
		}
	}
	b.def.MessageStarts = append(b.def.MessageStarts, e)
}

func (b *procBuilder) endEvent(e *Element, n *node) {
	def, ok := b.eventDefinition(e, n)
	switch {
	case !ok:
	case def == nil:
		e.EventType = EventNone
	case def.local == "errorEventDefinition":
		e.EventType = EventError
		b.throwError(e, def)
	case def.local == "compensateEventDefinition":
		e.EventType = EventCompensation
		b.compensateDefinition(e, def)
	case def.local == "messageEventDefinition":
		// A job, like a service task (extensions required its zeebe:taskDefinition).
		e.EventType = EventMessage
	case def.local == "terminateEventDefinition":
		e.EventType = EventTerminate
	case def.local == "signalEventDefinition":
		e.EventType = EventSignal
		b.signalRef(e, def)
	case def.local == "escalationEventDefinition":
		e.EventType = EventEscalation
		b.throwEscalation(e, def)
	default:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	}
}

func (b *procBuilder) boundaryEvent(e *Element, n *node) {
	e.CancelActivity = b.boolAttr(n, e.ID, "cancelActivity", true)
	ref := n.attr("attachedToRef")
	switch a := b.def.Elements[ref]; {
	case ref == "":
		b.add(e.ID, "Attribute 'attachedToRef' must be present and not empty")
	case a == nil:
		if !b.unknown[ref] {
			b.add(e.ID, "attachedToRef '%s' does not reference an activity of process '%s'", ref, b.def.ID)
		}
	case !a.Type.IsActivity():
		b.add(e.ID, "attachedToRef '%s' must reference an activity, not a %s", ref, a.Type)
	case a.Parent != e.Parent:
		b.add(e.ID, "attachedToRef '%s' must reference an activity of the scope the boundary event is in", ref)
	default:
		e.AttachedTo = a
		a.Boundaries = append(a.Boundaries, e)
	}

	def, ok := b.eventDefinition(e, n)
	switch {
	case !ok:
	case def == nil:
		b.unsupported(e.ID, n.local, "without an event definition")
	case def.local == "compensateEventDefinition":
		// cancelActivity has no meaning here: the event only links the activity to its handler.
		e.EventType = EventCompensation
	case !e.CancelActivity && def.local == "errorEventDefinition":
		b.add(e.ID, "Error boundary events must be interrupting (cancelActivity=\"false\" is not allowed)")
	case def.local == "errorEventDefinition":
		e.EventType = EventError
		b.catchError(e, def)
	case def.local == "timerEventDefinition":
		e.EventType = EventTimer
		b.timer(e, n, def)
	case def.local == "messageEventDefinition":
		e.EventType = EventMessage
		b.messageRef(e, def)
	case def.local == "signalEventDefinition":
		e.EventType = EventSignal
		b.signalRef(e, def)
	case def.local == "escalationEventDefinition":
		e.EventType = EventEscalation
		b.catchEscalation(e, def)
	case !e.CancelActivity:
		b.unsupported(e.ID, n.local, "(non-interrupting, with '"+def.local+"')")
	default:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	}
}

func (b *procBuilder) catchEvent(e *Element, n *node) {
	def, ok := b.eventDefinition(e, n)
	switch {
	case !ok:
	case def == nil:
		b.unsupported(e.ID, n.local, "without an event definition")
	case def.local == "messageEventDefinition":
		e.EventType = EventMessage
		b.messageRef(e, def)
	case def.local == "timerEventDefinition":
		e.EventType = EventTimer
		b.timer(e, n, def)
	case def.local == "signalEventDefinition":
		e.EventType = EventSignal
		b.signalRef(e, def)
	case def.local == "linkEventDefinition":
		e.EventType = EventLink
		b.linkName(e, def)
	default:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	}
}

// linkName reads a link event's name; throw and catch events are paired
// by it within their scope (linkEvents).
func (b *procBuilder) linkName(e *Element, def *node) {
	e.LinkName = def.attr("name")
	if strings.TrimSpace(e.LinkName) == "" {
		b.add(e.ID, "Link name must be present and not empty.")
	}
}

func (b *procBuilder) throwEvent(e *Element, n *node) {
	def, ok := b.eventDefinition(e, n)
	switch {
	case !ok:
	case def == nil:
		e.EventType = EventNone
	case def.local == "compensateEventDefinition":
		e.EventType = EventCompensation
		b.compensateDefinition(e, def)
	case def.local == "messageEventDefinition":
		// A job, like a service task (extensions required its zeebe:taskDefinition).
		e.EventType = EventMessage
	case def.local == "signalEventDefinition":
		e.EventType = EventSignal
		b.signalRef(e, def)
	case def.local == "escalationEventDefinition":
		e.EventType = EventEscalation
		b.throwEscalation(e, def)
	case def.local == "linkEventDefinition":
		e.EventType = EventLink
		b.linkName(e, def)
	default:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	}
}

// throwEscalation resolves an escalation throw or end event's code, which
// must exist (static or an expression).
func (b *procBuilder) throwEscalation(e *Element, def *node) {
	ref := def.attr("escalationRef")
	en := b.escalationNodes[ref]
	switch {
	case ref == "":
		b.add(e.ID, "Escalation throw and end events must reference an escalation (escalationRef)")
		return
	case en == nil:
		b.add(e.ID, "escalationRef '%s' does not reference a bpmn:escalation", ref)
		return
	}
	e.EscalationCode = en.attr("escalationCode")
	if strings.TrimSpace(e.EscalationCode) == "" {
		b.add(e.ID, "The escalation '%s' thrown by this event must have a non-empty escalationCode", ref)
		return
	}
	b.expr(e.ID, "escalationCode", e.EscalationCode)
}

// catchEscalation resolves an escalation catch event (boundary or event
// subprocess start); no escalationRef or no code catches every escalation.
func (b *procBuilder) catchEscalation(e *Element, def *node) {
	if ref := def.attr("escalationRef"); ref != "" {
		en := b.escalationNodes[ref]
		if en == nil {
			b.add(e.ID, "escalationRef '%s' does not reference a bpmn:escalation", ref)
			return
		}
		e.EscalationCode = en.attr("escalationCode")
	}
	if isExpression(e.EscalationCode) {
		b.add(e.ID, "The escalationCode of an escalation catch event must be static, found the expression '%s'", e.EscalationCode)
	}
	e.EscalationCatchAll = e.EscalationCode == ""
}

// signalRef resolves a signal event's bpmn:signal; its name may be an
// expression, evaluated when the event is reached.
func (b *procBuilder) signalRef(e *Element, def *node) {
	ref := def.attr("signalRef")
	sn := b.signalNodes[ref]
	switch {
	case ref == "":
		b.add(e.ID, "Signal events must reference a signal (signalRef)")
		return
	case sn == nil:
		b.add(e.ID, "signalRef '%s' does not reference a bpmn:signal", ref)
		return
	}
	e.SignalName = sn.attr("name")
	if strings.TrimSpace(e.SignalName) == "" {
		b.add(ref, "Attribute 'name' must be present and not empty")
		return
	}
	b.expr(ref, "name", e.SignalName)
}

// signalStart reads a process's signal start event: a static name, unique
// among the process's signal start events (Zeebe evaluates an expression
// here once at deployment, without variables; the local engine does not).
func (b *procBuilder) signalStart(e *Element, def *node) {
	b.signalRef(e, def)
	switch {
	case e.SignalName == "":
		return
	case isExpression(e.SignalName):
		b.add(e.ID, "The signal start event's signal name must be static for the local engine, found the expression '%s'", e.SignalName)
		return
	}
	for _, o := range b.def.SignalStarts {
		if o.SignalName == e.SignalName {
			b.add(e.ID, "Multiple signal event definitions with the same name '%s' are not allowed ('%s' has it already)", e.SignalName, o.ID)
			return
		}
	}
	b.def.SignalStarts = append(b.def.SignalStarts, e)
}

// throwError resolves an error end event's code, which must exist: a thrown error
// without a code could never be caught by a specific boundary event.
func (b *procBuilder) throwError(e *Element, def *node) {
	ref := def.attr("errorRef")
	if ref == "" {
		b.add(e.ID, "Error end events must reference an error (errorRef)")
		return
	}
	en := b.errorNodes[ref]
	if en == nil {
		b.add(e.ID, "errorRef '%s' does not reference a bpmn:error", ref)
		return
	}
	e.ErrorCode = en.attr("errorCode")
	if strings.TrimSpace(e.ErrorCode) == "" {
		b.add(e.ID, "The error '%s' thrown by this end event must have a non-empty errorCode", ref)
		return
	}
	b.expr(e.ID, "errorCode", e.ErrorCode)
}

// catchError resolves an error boundary event; no errorRef or no code catches everything.
func (b *procBuilder) catchError(e *Element, def *node) {
	ref := def.attr("errorRef")
	if ref != "" {
		en := b.errorNodes[ref]
		if en == nil {
			b.add(e.ID, "errorRef '%s' does not reference a bpmn:error", ref)
			return
		}
		e.ErrorCode = en.attr("errorCode")
	}
	e.CatchAll = e.ErrorCode == ""
}

func (b *procBuilder) compensateDefinition(e *Element, def *node) {
	e.ActivityRef = def.attr("activityRef")
	// Zeebe always waits for the handlers to complete.
	if !b.boolAttr(def, e.ID, "waitForCompletion", true) {
		b.add(e.ID, "waitForCompletion=\"false\" is not supported; remove the attribute or set it to true")
	}
}

// cyclePattern is the static timeCycle the local engine runs: repetitions
// (none: for ever) and an ISO 8601 duration, no start date, no cron.
var cyclePattern = regexp.MustCompile(`^R(\d*)/(P.+)$`)

func (b *procBuilder) timer(e *Element, n, def *node) {
	var duration *node
	nonInterrupting := (e.Type == BoundaryEvent || e.InEventSubprocess()) && !e.CancelActivity
	for _, c := range def.children {
		if c.space != nsBPMN {
			continue
		}
		switch {
		case c.local == "timeDuration":
			duration = c
		case c.local == "timeCycle" && nonInterrupting:
			b.timeCycle(e, c)
			return
		case c.local == "timeCycle" && e.Type == BoundaryEvent:
			// Zeebe 8.5 allows cycles only on non-interrupting events.
			b.add(e.ID, "Interrupting timer boundary events must not have a 'timeCycle'; set cancelActivity=\"false\" or use a 'timeDuration'")
			return
		case c.local == "timeCycle" && e.Type == StartEvent:
			// An interrupting event subprocess starts once: a cycle could never repeat.
			b.add(e.ID, "Interrupting timer start events of event subprocesses must not have a 'timeCycle'; set isInterrupting=\"false\" or use a 'timeDuration'")
			return
		case c.local == "timeDate", c.local == "timeCycle":
			b.unsupported(e.ID, n.local, "with timer '"+c.local+"' (only timeDuration, and timeCycle on non-interrupting boundary events, are supported)")
			return
		}
	}
	if duration == nil {
		b.add(e.ID, "Timer event definitions must have a 'timeDuration'")
		return
	}
	e.TimerDuration = text(duration)
	switch {
	case e.TimerDuration == "":
		b.add(e.ID, "'timeDuration' must not be empty")
	case isExpression(e.TimerDuration):
		b.expr(e.ID, "timeDuration", e.TimerDuration)
	case !isoDurationPattern.MatchString(e.TimerDuration) || strings.EqualFold(strings.TrimLeft(e.TimerDuration, "+-"), "P"):
		b.add(e.ID, "'timeDuration' must be an ISO 8601 duration such as 'PT5M' or an expression, found '%s'", e.TimerDuration)
	}
}

// timeCycle reads a non-interrupting boundary's cycle: R<n>/<duration>,
// checked here when static; an expression must give such a string.
func (b *procBuilder) timeCycle(e *Element, c *node) {
	e.TimerCycle = text(c)
	if isExpression(e.TimerCycle) {
		b.expr(e.ID, "timeCycle", e.TimerCycle)
		return
	}
	if _, _, ok := ParseCycle(e.TimerCycle); !ok {
		b.add(e.ID, "'timeCycle' must be a repeating interval such as 'R3/PT10S' (or 'R/PT10S', for ever) or an expression, found '%s'; "+
			"the local engine supports neither cron expressions nor start dates", e.TimerCycle)
	}
}

// ParseCycle splits a timeCycle "R<n>/<duration>" into its repetitions (-1:
// for ever) and its duration text; ok is false for anything else, for zero
// repetitions and for an interval that is not positive.
func ParseCycle(s string) (repetitions int, duration string, ok bool) {
	m := cyclePattern.FindStringSubmatch(strings.TrimSpace(s))
	// The interval must be positive: a zero one repeating would never let the engine rest.
	if m == nil || !isoDurationPattern.MatchString(m[2]) || strings.ContainsAny(m[2], "+-") || !strings.ContainsAny(m[2], "123456789") {
		return 0, "", false
	}
	if m[1] == "" {
		return -1, m[2], true
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, "", false
	}
	return n, m[2], true
}

func (b *procBuilder) messageRef(e *Element, def *node) {
	ref := def.attr("messageRef")
	if ref == "" {
		b.add(e.ID, "Message catch events and receive tasks must reference a message (messageRef)")
		return
	}
	if b.messageNodes[ref] == nil {
		b.add(e.ID, "messageRef '%s' does not reference a bpmn:message", ref)
		return
	}
	m, ok := b.messages[ref]
	if !ok {
		m = b.message(ref)
		b.messages[ref] = m
	}
	if m == nil {
		return
	}
	e.MessageName, e.CorrelationKey = m.name, m.key
}

// message validates a bpmn:message on first use; problems name the message's id.
func (b *procBuilder) message(ref string) *messageInfo {
	n := b.messageNodes[ref]
	m := &messageInfo{name: n.attr("name")}
	if m.name == "" {
		b.add(ref, "Attribute 'name' must be present and not empty")
	}
	b.expr(ref, "name", m.name)
	var subs []*node
	for _, x := range n.zeebeExtensions() {
		if x.local == "subscription" {
			subs = append(subs, x)
		}
	}
	if len(subs) != 1 {
		b.add(ref+" > extensionElements", "Must have exactly one 'zeebe:subscription' extension element")
		return nil
	}
	m.key = subs[0].attr("correlationKey")
	if m.key == "" {
		b.add(ref+" > extensionElements", "Attribute 'correlationKey' of 'zeebe:subscription' must be present and not empty")
		return nil
	}
	b.expr(ref, "zeebe:subscription correlationKey", m.key)
	if m.name == "" {
		return nil
	}
	return m
}

// laterExtensions are Zeebe extension elements that Zeebe 8.5 does not have,
// with the release that added them (Camunda's modeler compatibility rules and
// release notes). Zeebe 8.5 would deploy and silently ignore them; the local
// engine refuses them, so a model never runs without what it asks for.
var laterExtensions = map[string]string{
	"executionListeners": "8.6",
	"priorityDefinition": "8.6",
	"taskListeners":      "8.8",
}

// extensions reads the Zeebe extension elements of a flow node. Unknown Zeebe
// elements are rejected: they stand for features (listeners, forms, scripts) the
// local engine would otherwise silently skip.
func (b *procBuilder) extensions(e *Element, n *node) {
	where := e.ID + " > extensionElements"
	job := jobCapable(e, n)
	seen := map[string]int{}
	for _, x := range n.zeebeExtensions() {
		seen[x.local]++
		switch {
		case x.local == "properties":
			// Key/value metadata for tools, no execution semantics.
		case laterExtensions[x.local] != "":
			b.add(where, "Extension element 'zeebe:%s' was added in Zeebe %s; the local engine implements Zeebe 8.5 and does not support it", x.local, laterExtensions[x.local])
		case x.local == "ioMapping":
			if seen[x.local] > 1 {
				b.add(where, "Must have at most one 'zeebe:ioMapping' extension element")
				continue
			}
			b.ioMapping(e, x)
		case x.local == "taskDefinition" && job:
			if seen[x.local] == 1 {
				b.taskDefinition(e, x)
			}
		case x.local == "taskHeaders" && (job || e.Type == UserTask):
			if seen[x.local] > 1 {
				b.add(where, "Must have at most one 'zeebe:taskHeaders' extension element")
				continue
			}
			b.taskHeaders(e, x)
		case e.Type == UserTask && (x.local == "formDefinition" || x.local == "assignmentDefinition" || x.local == "taskSchedule"):
			if seen[x.local] > 1 {
				b.add(where, "Must have at most one 'zeebe:%s' extension element", x.local)
				continue
			}
			b.userTaskExtension(e, x)
		case e.Type == UserTask && x.local == "userTask":
			if seen[x.local] > 1 {
				b.add(where, "Must have at most one 'zeebe:userTask' extension element")
			}
		case e.Type == BusinessRuleTask && x.local == "calledDecision":
			if seen[x.local] == 1 {
				b.calledDecision(e, x)
			}
		case e.Type == ScriptTask && x.local == "script":
			if seen[x.local] == 1 {
				b.script(e, x)
			}
		case e.Type == CallActivity && x.local == "calledElement":
			if seen[x.local] == 1 {
				b.calledElement(e, x)
			}
		default:
			b.add(where, "Extension element 'zeebe:%s' is not supported on '%s' elements by the local engine", x.local, n.local)
		}
	}
	switch {
	case e.Type == ScriptTask && seen["taskDefinition"]+seen["script"] != 1:
		b.add(where, "Must have either one 'zeebe:script' or one 'zeebe:taskDefinition' extension element")
	case e.Type == BusinessRuleTask && seen["taskDefinition"]+seen["calledDecision"] != 1:
		b.add(where, "Must have either one 'zeebe:calledDecision' or one 'zeebe:taskDefinition' extension element")
	case e.Type == CallActivity && seen["calledElement"] != 1:
		b.add(where, "Must have exactly one 'zeebe:calledElement' extension element")
	case job && e.Type != ScriptTask && e.Type != BusinessRuleTask && seen["taskDefinition"] != 1:
		b.add(where, "Must have exactly one 'zeebe:taskDefinition' extension element")
	case e.Type == UserTask:
		if e.UserTask == nil {
			e.UserTask = &UserTaskProps{}
		}
		e.UserTask.Zeebe = seen["userTask"] > 0
		b.checkForm(e, seen["formDefinition"] > 0)
		if !e.UserTask.Zeebe {
			e.JobType, e.JobRetries = UserTaskJobType, "1" // Zeebe 8.5 creates user task jobs with one retry
		}
	}
}

// checkForm checks a user task's zeebe:formDefinition once it is known
// whether the task is a Zeebe user task: either names a linked form by
// formId (resolved at activation); a job-based one may name its form by
// formKey (the job header), a Zeebe user task by externalReference (a
// custom form).
func (b *procBuilder) checkForm(e *Element, present bool) {
	if !present {
		return
	}
	where := e.ID + " > extensionElements"
	u := e.UserTask
	set := 0
	for _, a := range []string{u.FormKey, u.FormID, u.ExternalReference} {
		if a != "" {
			set++
		}
	}
	switch {
	case set != 1:
		b.add(where, "Exactly one of the attributes 'formKey', 'formId' or 'externalReference' of 'zeebe:formDefinition' must be present and not empty")
	case !u.Zeebe && u.ExternalReference != "":
		b.add(where, "Attribute 'externalReference' of 'zeebe:formDefinition' is for Zeebe user tasks ('zeebe:userTask'); "+
			"a job-based user task takes 'formKey'")
	case u.Zeebe && u.FormKey != "":
		b.add(where, "Attribute 'formKey' of 'zeebe:formDefinition' is for job-based user tasks; "+
			"a Zeebe user task ('zeebe:userTask') takes 'formId' or 'externalReference'")
	case u.ExternalReference != "":
		b.expr(e.ID, "zeebe:formDefinition externalReference", u.ExternalReference)
	}
}

// jobCapable reports whether the element may carry a zeebe:taskDefinition:
// the job-worker tasks, and message throw and end events, which Zeebe 8.5
// runs as jobs too.
func jobCapable(e *Element, n *node) bool {
	switch e.Type {
	case ServiceTask, SendTask, ScriptTask, BusinessRuleTask:
		return true
	case IntermediateThrowEvent, EndEvent:
		return n.child(nsBPMN, "messageEventDefinition") != nil
	}
	return false
}

// calledElement reads a call activity's zeebe:calledElement. Zeebe 8.5
// always calls the latest version; bindingType and versionTag came in 8.6.
func (b *procBuilder) calledElement(e *Element, x *node) {
	where := e.ID + " > extensionElements"
	e.CalledProcessID = x.attr("processId")
	if strings.TrimSpace(e.CalledProcessID) == "" {
		b.add(where, "Attribute 'processId' of 'zeebe:calledElement' must be present and not empty")
	}
	b.expr(e.ID, "zeebe:calledElement processId", e.CalledProcessID)
	for _, a := range []string{"bindingType", "versionTag"} {
		if _, set := x.attrOK(a); set {
			b.add(where, "Attribute '%s' of 'zeebe:calledElement' was added in Zeebe 8.6; the local engine implements Zeebe 8.5, "+
				"which always calls the latest version of the process", a)
		}
	}
	e.PropagateAllChildVariables = b.boolAttr(x, e.ID, "propagateAllChildVariables", true)
	e.PropagateAllParentVariables = b.boolAttr(x, e.ID, "propagateAllParentVariables", true)
}

// calledDecision reads a business rule task's zeebe:calledDecision: the
// decision the engine evaluates on activation, and the variable its result goes to.
func (b *procBuilder) calledDecision(e *Element, x *node) {
	where := e.ID + " > extensionElements"
	e.CalledDecisionID, e.ResultVariable = x.attr("decisionId"), x.attr("resultVariable")
	if strings.TrimSpace(e.CalledDecisionID) == "" {
		b.add(where, "Attribute 'decisionId' of 'zeebe:calledDecision' must be present and not empty")
	}
	b.expr(e.ID, "zeebe:calledDecision decisionId", e.CalledDecisionID)
	if !pathPattern.MatchString(e.ResultVariable) || strings.Contains(e.ResultVariable, ".") {
		b.add(where, "Attribute 'resultVariable' of 'zeebe:calledDecision' must be a variable name, found '%s'", e.ResultVariable)
	}
}

// script reads a zeebe:script: a FEEL expression the engine evaluates when
// the task is activated, and the variable that takes its result.
func (b *procBuilder) script(e *Element, x *node) {
	where := e.ID + " > extensionElements"
	e.Script, e.ResultVariable = x.attr("expression"), x.attr("resultVariable")
	if strings.TrimSpace(e.Script) == "" {
		b.add(where, "Attribute 'expression' of 'zeebe:script' must be present and not empty")
	}
	b.mustBeExpression(e.ID, "zeebe:script expression", e.Script)
	if !pathPattern.MatchString(e.ResultVariable) || strings.Contains(e.ResultVariable, ".") {
		b.add(where, "Attribute 'resultVariable' of 'zeebe:script' must be a variable name, found '%s'", e.ResultVariable)
	}
}

func (b *procBuilder) taskHeaders(e *Element, x *node) {
	where := e.ID + " > extensionElements"
	for _, h := range x.children {
		if !h.is(nsZeebe, "header") {
			continue
		}
		key, _ := h.attrOK("key")
		if key == "" {
			b.add(where, "Attribute 'key' of 'zeebe:header' must be present and not empty")
			continue
		}
		e.Headers = append(e.Headers, Header{Key: key, Value: h.attr("value")})
	}
}

// staticDateTime matches what Java's ZonedDateTime.parse takes: an offset
// is required, seconds and fractions are optional, a zone id may follow.
var staticDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)(\[[^\]]+\])?$`)

// ValidDateTime reports whether a static due or follow-up date is an ISO 8601
// date-time with an offset, e.g. 2023-03-02T15:35+02:00.
func ValidDateTime(s string) bool {
	m := staticDateTime.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	v := s
	if i := strings.IndexByte(v, '['); i >= 0 {
		v = v[:i]
	}
	if m[1] == "" { // no seconds: time.Parse wants them
		v = v[:16] + ":00" + v[16:]
	}
	if m[4] != "" { // seconds in the offset: Go's layouts have none
		v = v[:len(v)-3]
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// userTaskExtension reads the form, assignment and schedule of a user task.
func (b *procBuilder) userTaskExtension(e *Element, x *node) {
	where := e.ID + " > extensionElements"
	if e.UserTask == nil {
		e.UserTask = &UserTaskProps{}
	}
	u := e.UserTask
	switch x.local {
	case "formDefinition":
		// Checked by checkForm, once zeebe:userTask is known.
		u.FormKey, u.FormID, u.ExternalReference = x.attr("formKey"), x.attr("formId"), x.attr("externalReference")
	case "assignmentDefinition":
		u.Assignee, u.CandidateGroups, u.CandidateUsers = x.attr("assignee"), x.attr("candidateGroups"), x.attr("candidateUsers")
		b.expr(e.ID, "zeebe:assignmentDefinition assignee", u.Assignee)
		for _, l := range [][2]string{{"candidateGroups", u.CandidateGroups}, {"candidateUsers", u.CandidateUsers}} {
			if isExpression(l[1]) {
				b.expr(e.ID, "zeebe:assignmentDefinition "+l[0], l[1])
			} else if _, ok := SplitList(l[1]); l[1] != "" && !ok {
				b.add(where, "Expected static value to be a list of comma-separated values, e.g. 'a,b,c', but found '%s'", l[1])
			}
		}
	case "taskSchedule":
		u.DueDate, u.FollowUpDate = x.attr("dueDate"), x.attr("followUpDate")
		for _, d := range [][2]string{{"dueDate", u.DueDate}, {"followUpDate", u.FollowUpDate}} {
			if isExpression(d[1]) {
				b.expr(e.ID, "zeebe:taskSchedule "+d[0], d[1])
			} else if d[1] != "" && !ValidDateTime(d[1]) {
				b.add(where, "Expected static value to be a valid DateTime String, e.g. '2023-03-02T15:35+02:00', but found '%s'.", d[1])
			}
		}
	}
}

func (b *procBuilder) taskDefinition(e *Element, x *node) {
	where := e.ID + " > extensionElements"
	e.JobType = x.attr("type")
	if strings.TrimSpace(e.JobType) == "" {
		b.add(where, "Attribute 'type' of 'zeebe:taskDefinition' must be present and not empty")
	}
	b.expr(e.ID, "zeebe:taskDefinition type", e.JobType)
	retries, set := x.attrOK("retries")
	switch {
	case !set:
		retries = "3" // Zeebe's default
	case strings.TrimSpace(retries) == "":
		// As in Zeebe: the default applies only when the attribute is absent.
		b.add(where, "Attribute 'retries' of 'zeebe:taskDefinition' must not be empty (omit it for the default 3)")
	}
	e.JobRetries = retries
	b.expr(e.ID, "zeebe:taskDefinition retries", e.JobRetries)
}

func (b *procBuilder) ioMapping(e *Element, x *node) {
	for _, m := range x.children {
		if m.space != nsZeebe || (m.local != "input" && m.local != "output") {
			continue
		}
		mp := Mapping{Source: m.attr("source"), Target: m.attr("target")}
		if !pathPattern.MatchString(mp.Target) {
			b.add(e.ID+" > extensionElements", "Attribute 'target' of 'zeebe:%s' must be a variable name or a dotted path such as 'a.b', found '%s'", m.local, mp.Target)
		}
		b.expr(e.ID, "zeebe:"+m.local+" source", mp.Source)
		if m.local == "input" {
			e.Inputs = append(e.Inputs, mp)
		} else {
			e.Outputs = append(e.Outputs, mp)
		}
	}
}

func (b *procBuilder) loopCharacteristics(e *Element, n *node) {
	for _, c := range n.children {
		switch {
		case c.is(nsBPMN, "standardLoopCharacteristics"):
			b.unsupported(e.ID, n.local, "with 'standardLoopCharacteristics'")
		case !c.is(nsBPMN, "multiInstanceLoopCharacteristics"):
		case !e.JobBased() && e.Type != ReceiveTask && e.Type != SubProcess && e.Script == "" && e.CalledDecisionID == "":
			b.unsupported(e.ID, n.local, "with 'multiInstanceLoopCharacteristics'")
		case e.MultiInstance != nil:
			b.add(e.ID, "Must have at most one 'multiInstanceLoopCharacteristics'")
		default:
			e.MultiInstance = b.multiInstance(e.ID, c)
		}
	}
}

func (b *procBuilder) multiInstance(id string, c *node) *MultiInstance {
	where := id + " > multiInstanceLoopCharacteristics"
	mi := &MultiInstance{Sequential: b.boolAttr(c, id, "isSequential", false)}
	for _, x := range c.children {
		switch {
		case x.space != nsBPMN, x.local == "extensionElements", x.local == "documentation":
		case x.local == "completionCondition":
			mi.CompletionCondition = text(x)
		default:
			// loopCardinality, inputDataItem, ...: Zeebe drives the loop from zeebe:loopCharacteristics only.
			b.add(where, "'%s' is not supported by the local engine; use zeebe:loopCharacteristics", x.local)
		}
	}
	var lcs []*node
	for _, x := range c.zeebeExtensions() {
		if x.local == "loopCharacteristics" {
			lcs = append(lcs, x)
		}
	}
	if len(lcs) != 1 {
		b.add(where+" > extensionElements", "Must have exactly one 'zeebe:loopCharacteristics' extension element")
		return mi
	}
	lc := lcs[0]
	mi.InputCollection = lc.attr("inputCollection")
	mi.InputElement = lc.attr("inputElement")
	mi.OutputCollection = lc.attr("outputCollection")
	mi.OutputElement = lc.attr("outputElement")
	if mi.InputCollection == "" {
		b.add(where, "Attribute 'inputCollection' of 'zeebe:loopCharacteristics' must be present and not empty")
	}
	b.mustBeExpression(id, "zeebe:loopCharacteristics inputCollection", mi.InputCollection)
	for _, v := range [][2]string{{"inputElement", mi.InputElement}, {"outputCollection", mi.OutputCollection}} {
		if v[1] != "" && !pathPattern.MatchString(v[1]) {
			b.add(where, "Attribute '%s' of 'zeebe:loopCharacteristics' must be a variable name, found '%s'", v[0], v[1])
		}
	}
	if (mi.OutputCollection == "") != (mi.OutputElement == "") {
		b.add(where, "Attributes 'outputCollection' and 'outputElement' of 'zeebe:loopCharacteristics' must both be set or both be absent")
	}
	b.expr(id, "zeebe:loopCharacteristics outputElement", mi.OutputElement)
	b.mustBeExpression(id, "completionCondition", mi.CompletionCondition)
	return mi
}
