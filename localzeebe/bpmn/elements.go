package bpmn

import "strings"

// details reads an element's attributes, extension elements and event definition.
func (b *procBuilder) details(e *Element) {
	n := b.nodes[e]
	b.extensions(e, n)
	b.loopCharacteristics(e, n)
	switch e.Type {
	case ServiceTask:
		e.IsForCompensation = b.boolAttr(n, e.ID, "isForCompensation", false)
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
	switch {
	case !ok:
	case def != nil:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	case b.def.NoneStart != nil:
		b.add(e.ID, "Multiple none start events are not allowed in a process ('%s' is one already)", b.def.NoneStart.ID)
	default:
		e.EventType = EventNone
		b.def.NoneStart = e
	}
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
	case a.Type != ServiceTask:
		b.add(e.ID, "attachedToRef '%s' must reference an activity, not a %s", ref, a.Type)
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
	case !e.CancelActivity:
		b.unsupported(e.ID, n.local, "(non-interrupting, with '"+def.local+"')")
	case def.local == "errorEventDefinition":
		e.EventType = EventError
		b.catchError(e, def)
	case def.local == "timerEventDefinition":
		e.EventType = EventTimer
		b.timer(e, n, def)
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
	default:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
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
	default:
		b.unsupported(e.ID, n.local, "with '"+def.local+"'")
	}
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

func (b *procBuilder) timer(e *Element, n, def *node) {
	var duration *node
	for _, c := range def.children {
		if c.space != nsBPMN {
			continue
		}
		switch c.local {
		case "timeDuration":
			duration = c
		case "timeDate", "timeCycle":
			b.unsupported(e.ID, n.local, "with timer '"+c.local+"' (only timeDuration is supported)")
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

func (b *procBuilder) messageRef(e *Element, def *node) {
	ref := def.attr("messageRef")
	if ref == "" {
		b.add(e.ID, "Message events must reference a message (messageRef)")
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

// extensions reads the Zeebe extension elements of a flow node. Unknown Zeebe
// elements are rejected: they stand for features (listeners, forms, scripts) the
// local engine would otherwise silently skip.
func (b *procBuilder) extensions(e *Element, n *node) {
	where := e.ID + " > extensionElements"
	var taskDefs, taskHeaders, ioMappings int
	for _, x := range n.zeebeExtensions() {
		switch {
		case x.local == "properties":
			// Key/value metadata for tools, no execution semantics.
		case x.local == "ioMapping":
			if ioMappings++; ioMappings > 1 {
				b.add(where, "Must have at most one 'zeebe:ioMapping' extension element")
				continue
			}
			b.ioMapping(e, x)
		case x.local == "taskDefinition" && e.Type == ServiceTask:
			if taskDefs++; taskDefs == 1 {
				b.taskDefinition(e, x)
			}
		case x.local == "taskHeaders" && e.Type == ServiceTask:
			if taskHeaders++; taskHeaders > 1 {
				b.add(where, "Must have at most one 'zeebe:taskHeaders' extension element")
				continue
			}
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
		default:
			b.add(where, "Extension element 'zeebe:%s' is not supported on '%s' elements by the local engine", x.local, n.local)
		}
	}
	if e.Type == ServiceTask && taskDefs != 1 {
		b.add(where, "Must have exactly one 'zeebe:taskDefinition' extension element")
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
		case e.Type != ServiceTask:
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
