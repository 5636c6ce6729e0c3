package bpmn

import (
	"fmt"
	"regexp"
	"strings"
)

const (
	nsBPMN  = "http://www.omg.org/spec/BPMN/20100524/MODEL"
	nsZeebe = "http://camunda.org/schema/zeebe/1.0"
)

var (
	// Zeebe accepts only dotted variable names as mapping targets and loop variables.
	pathPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	// Static timer durations: ISO 8601 periods and durations as Java's Period/Duration read them.
	isoDurationPattern = regexp.MustCompile(`(?i)^[+-]?P(?:[+-]?\d+[YMWD])*(?:T(?:[+-]?\d+(?:[.,]\d+)?[HMS])+)?$`)
)

// Parse parses and validates one BPMN resource. Every problem found is reported, not
// only the first; the error is then a *ValidationError and the model nil.
func Parse(data []byte, opts ...Option) (*Definitions, error) {
	p := &parser{messages: map[string]*messageInfo{}}
	for _, o := range opts {
		o(&p.opts)
	}
	root, malformed := decodeTree(data)
	if malformed != "" {
		return nil, &ValidationError{Problems: []string{malformed}}
	}
	if !root.is(nsBPMN, "definitions") {
		return nil, &ValidationError{Problems: []string{fmt.Sprintf(
			"The root element must be 'definitions' of namespace '%s', found '%s' of namespace '%s'",
			nsBPMN, root.local, root.space)}}
	}
	p.checkDuplicateIDs(root)
	p.errorNodes = map[string]*node{}
	p.messageNodes = map[string]*node{}
	p.signalNodes = map[string]*node{}
	p.escalationNodes = map[string]*node{}
	for _, c := range root.children {
		id := c.attr("id")
		switch {
		case id == "":
		case c.is(nsBPMN, "error"):
			p.errorNodes[id] = c
		case c.is(nsBPMN, "message"):
			p.messageNodes[id] = c
		case c.is(nsBPMN, "signal"):
			p.signalNodes[id] = c
		case c.is(nsBPMN, "escalation"):
			p.escalationNodes[id] = c
		}
	}
	defs := &Definitions{}
	for _, c := range root.children {
		if c.is(nsBPMN, "process") && p.boolAttr(c, c.label(), "isExecutable", false) {
			defs.Processes = append(defs.Processes, p.process(c))
		}
	}
	if len(defs.Processes) == 0 {
		p.problems = append(p.problems, "Must contain at least one executable process")
	}
	if len(p.problems) > 0 {
		return nil, &ValidationError{Problems: p.problems}
	}
	return defs, nil
}

type parser struct {
	opts         options
	problems     []string
	errorNodes   map[string]*node // root-level bpmn:error by id
	messageNodes map[string]*node // root-level bpmn:message by id
	signalNodes  map[string]*node // root-level bpmn:signal by id
	// root-level bpmn:escalation by id
	escalationNodes map[string]*node
	messages        map[string]*messageInfo
}

// messageInfo caches a validated bpmn:message, so a message used twice is reported once.
type messageInfo struct {
	name, key string
}

// add records a problem about the element with the given id.
func (p *parser) add(id, format string, args ...any) {
	p.problems = append(p.problems, "Element: "+id+"\n    ERROR: "+fmt.Sprintf(format, args...))
}

// unsupported rejects what the local engine cannot run. Rejecting, rather than
// ignoring, keeps a deployed process from behaving differently than on Zeebe.
func (p *parser) unsupported(id, typ, detail string) {
	msg := fmt.Sprintf("Element '%s' of type '%s'", id, typ)
	if detail != "" {
		msg += " " + detail
	}
	p.add(id, "%s is not supported by the local engine", msg)
}

// isExpression follows Zeebe: a value is FEEL only if it starts with '='.
func isExpression(v string) bool { return strings.HasPrefix(v, "=") }

// expr runs the caller's expression check on an expression value.
func (p *parser) expr(id, attr, value string) {
	if p.opts.check == nil || !isExpression(value) {
		return
	}
	if err := p.opts.check(value); err != nil {
		p.add(id, "Invalid expression in '%s' ('%s'): %v", attr, value, err)
	}
}

// mustBeExpression reports a static value where Zeebe needs FEEL (conditions, collections).
func (p *parser) mustBeExpression(id, attr, value string) {
	if value != "" && !isExpression(value) {
		p.add(id, "Expected an expression starting with '=' in '%s' but found static value '%s'", attr, value)
	}
	p.expr(id, attr, value)
}

// boolAttr reads an xs:boolean attribute.
func (p *parser) boolAttr(n *node, id, name string, def bool) bool {
	v, ok := n.attrOK(name)
	if !ok {
		return def
	}
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	p.add(id, "Attribute '%s' must be 'true' or 'false', found '%s'", name, v)
	return def
}

// checkDuplicateIDs reports ids used twice anywhere in the BPMN part of the document:
// they are XML IDs, unique per document, and every lookup below relies on that.
func (p *parser) checkDuplicateIDs(root *node) {
	count := map[string]int{}
	var walk func(n *node)
	walk = func(n *node) {
		if id := n.attr("id"); id != "" && n.space == nsBPMN {
			count[id]++
			if count[id] == 2 {
				p.add(id, "The id '%s' is used by more than one element", id)
			}
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
}

// procBuilder holds the state of one process while it is built.
type procBuilder struct {
	*parser
	def       *ProcessDef
	nodes     map[*Element]*node
	unknown   map[string]bool     // ids of children already rejected, so references to them add no noise
	flowIDs   map[string]bool     // ids of all sequence flows, valid or not
	flowOrder []*SequenceFlow     // valid flows in document order
	assocs    map[string][]string // association sourceRef -> targetRefs
	all       []*Element          // every flow node, subprocesses' included, in document order
	flowNodes []scopedNode        // sequenceFlow elements with the subprocess they are in (nil: the process)
}

type scopedNode struct {
	n     *node
	scope *Element
}

// scope registers the flow nodes and flows directly inside the process (parent
// nil) or an embedded subprocess, descending into nested subprocesses.
func (b *procBuilder) scope(sn *node, parent *Element) {
	for _, c := range sn.children {
		if c.space != nsBPMN {
			continue
		}
		switch c.local {
		case "sequenceFlow":
			b.flowNodes = append(b.flowNodes, scopedNode{n: c, scope: parent})
			b.flowIDs[c.attr("id")] = true
		case "association":
			src := c.attr("sourceRef")
			b.assocs[src] = append(b.assocs[src], c.attr("targetRef"))
		case "extensionElements":
			if parent == nil {
				b.processExtensions(c)
			}
			// A subprocess's own extensions are read with its details.
		case "incoming", "outgoing", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics":
			// A subprocess's own flow references and loop marker, read with its details.
		case "documentation", "laneSet", "textAnnotation", "group", "dataObject", "dataObjectReference",
			"dataStoreReference", "property", "ioSpecification", "ioBinding", "auditing", "monitoring",
			"supports", "correlationSubscription", "resourceRole", "performer", "dataInputAssociation", "dataOutputAssociation":
			// Documentation, diagram artifacts and data declarations: Zeebe does not execute them either.
		default:
			b.flowNode(c, parent)
		}
	}
}

// process builds one executable process in passes: flow nodes, flows, element
// details (which need the flows), then the checks that need every element.
func (p *parser) process(pn *node) *ProcessDef {
	def := &ProcessDef{
		ID:       pn.attr("id"),
		Name:     pn.attr("name"),
		Elements: map[string]*Element{},
		Flows:    map[string]*SequenceFlow{},
	}
	if def.ID == "" {
		p.add(pn.label(), "Attribute 'id' must be present and not empty")
	}
	b := &procBuilder{
		parser:  p,
		def:     def,
		nodes:   map[*Element]*node{},
		unknown: map[string]bool{},
		flowIDs: map[string]bool{},
		assocs:  map[string][]string{},
	}
	b.scope(pn, nil)
	for _, f := range b.flowNodes {
		b.flow(f.n, f.scope)
	}
	for _, e := range b.all {
		b.details(e)
	}
	for _, e := range b.all {
		b.crossCheck(e)
	}
	b.linkEvents()
	b.eventSubprocessTriggers(def.EventSubs)
	for _, e := range b.all {
		b.eventSubprocessTriggers(e.EventSubs)
	}
	for _, f := range b.flowOrder {
		if f.Condition != "" && f.Source.Type != ExclusiveGateway {
			p.add(f.ID, "Conditional sequence flows are only supported when leaving an exclusive gateway, not '%s'", f.Source.ID)
		}
	}
	return def
}

// processExtensions accepts process-level metadata and rejects Zeebe features that
// would change execution (e.g. execution listeners).
func (b *procBuilder) processExtensions(ext *node) {
	for _, x := range ext.children {
		if x.space != nsZeebe {
			continue
		}
		switch x.local {
		case "properties", "versionTag", "userTaskForm":
			// versionTag (8.6) only labels the process; 8.5 ignores it, and so can we.
		case "executionListeners":
			b.add(b.def.ID, "Extension element 'zeebe:%s' was added in Zeebe %s; the local engine implements Zeebe 8.5 and does not support it", x.local, laterExtensions[x.local])
		default:
			b.add(b.def.ID, "Extension element 'zeebe:%s' is not supported by the local engine", x.local)
		}
	}
}

func elementType(local string) (ElementType, bool) {
	switch local {
	case "startEvent":
		return StartEvent, true
	case "endEvent":
		return EndEvent, true
	case "serviceTask":
		return ServiceTask, true
	case "userTask":
		return UserTask, true
	case "sendTask":
		return SendTask, true
	case "scriptTask":
		return ScriptTask, true
	case "businessRuleTask":
		return BusinessRuleTask, true
	case "manualTask":
		return ManualTask, true
	case "receiveTask":
		return ReceiveTask, true
	case "task":
		return Task, true
	case "subProcess":
		return SubProcess, true
	case "callActivity":
		return CallActivity, true
	case "exclusiveGateway":
		return ExclusiveGateway, true
	case "parallelGateway":
		return ParallelGateway, true
	case "eventBasedGateway":
		return EventBasedGateway, true
	case "boundaryEvent":
		return BoundaryEvent, true
	case "intermediateCatchEvent":
		return IntermediateCatchEvent, true
	case "intermediateThrowEvent":
		return IntermediateThrowEvent, true
	}
	return "", false
}

// flowNode registers a direct child of the process or of a subprocess, or rejects it.
func (b *procBuilder) flowNode(n *node, parent *Element) {
	id := n.attr("id")
	if id == "" {
		b.add(n.label(), "Attribute 'id' must be present and not empty")
		return
	}
	if _, dup := b.def.Elements[id]; dup || b.unknown[id] {
		return // reported by checkDuplicateIDs
	}
	typ, ok := elementType(n.local)
	if ok && typ == SubProcess && b.boolAttr(n, id, "triggeredByEvent", false) {
		typ = EventSubProcess
	}
	if !ok {
		b.unknown[id] = true
		b.unsupported(id, n.local, "")
		return
	}
	e := &Element{ID: id, Name: n.attr("name"), Type: typ, EventType: EventUnspecified, Parent: parent}
	b.def.Elements[id] = e
	if parent == nil {
		b.def.Children = append(b.def.Children, e)
	} else {
		parent.Children = append(parent.Children, e)
	}
	b.all = append(b.all, e)
	b.nodes[e] = n
	if typ == EventSubProcess {
		if parent == nil {
			b.def.EventSubs = append(b.def.EventSubs, e)
		} else {
			parent.EventSubs = append(parent.EventSubs, e)
		}
	}
	if typ == SubProcess || typ == EventSubProcess {
		b.scope(n, e)
	}
}

// ref resolves a flow node reference of the element id; nil when it does not resolve.
func (b *procBuilder) ref(id, attr, ref string) *Element {
	if ref == "" {
		b.add(id, "Attribute '%s' must be present and not empty", attr)
		return nil
	}
	if e := b.def.Elements[ref]; e != nil {
		return e
	}
	if !b.unknown[ref] {
		b.add(id, "%s '%s' does not reference a flow node of process '%s'", attr, ref, b.def.ID)
	}
	return nil
}

func (b *procBuilder) flow(n *node, scope *Element) {
	id := n.attr("id")
	if id == "" {
		b.add(n.label(), "Attribute 'id' must be present and not empty")
		return
	}
	if _, dup := b.def.Flows[id]; dup {
		return
	}
	f := &SequenceFlow{ID: id, Condition: text(n.child(nsBPMN, "conditionExpression"))}
	b.mustBeExpression(id, "conditionExpression", f.Condition)
	f.Source = b.ref(id, "sourceRef", n.attr("sourceRef"))
	f.Target = b.ref(id, "targetRef", n.attr("targetRef"))
	if f.Source == nil || f.Target == nil {
		return
	}
	if f.Source.Parent != scope || f.Target.Parent != scope {
		// Tokens never cross a subprocess's border on a flow: it is entered and left as a whole.
		b.add(id, "A sequence flow must connect elements of the scope it is in ('%s' to '%s')", f.Source.ID, f.Target.ID)
		return
	}
	b.def.Flows[id] = f
	b.flowOrder = append(b.flowOrder, f)
	f.Source.Outgoing = append(f.Source.Outgoing, f)
	f.Target.Incoming = append(f.Target.Incoming, f)
}

// crossCheck validates what depends on other elements: flow directions, default
// flows, compensation links, and error codes per activity.
func (b *procBuilder) crossCheck(e *Element) {
	switch e.Type {
	case StartEvent:
		if len(e.Incoming) > 0 {
			b.add(e.ID, "Start events must not have incoming sequence flows")
		}
	case EndEvent:
		if len(e.Outgoing) > 0 {
			b.add(e.ID, "End events must not have outgoing sequence flows")
		}
	case BoundaryEvent:
		if len(e.Incoming) > 0 {
			b.add(e.ID, "Boundary events must not have incoming sequence flows")
		}
		if e.EventType == EventCompensation {
			if len(e.Outgoing) > 0 {
				b.add(e.ID, "Compensation boundary events must not have outgoing sequence flows")
			}
			b.linkHandler(e)
		}
	case ExclusiveGateway:
		b.gateway(e)
	case EventBasedGateway:
		b.eventGateway(e)
	case SubProcess:
		if e.NoneStart == nil {
			b.add(e.ID, "An embedded subprocess must have exactly one none start event")
		}
	case EventSubProcess:
		b.eventSubprocess(e)
	}
	b.compensationInSubprocess(e)
	if e.Type == CallActivity {
		// Zeebe 8.5 compensates call activities too; the local engine does not.
		if e.IsForCompensation {
			b.add(e.ID, "A call activity as compensation handler is not supported by the local engine")
		}
		for _, bd := range e.Boundaries {
			if bd.EventType == EventCompensation {
				b.add(bd.ID, "Compensation boundary events on a call activity are not supported by the local engine")
			}
		}
	}
	if e.Type.IsActivity() {
		b.activityBoundaries(e)
	}
	if e.IsForCompensation && (len(e.Incoming) > 0 || len(e.Outgoing) > 0 || len(e.Boundaries) > 0) {
		b.add(e.ID, "A compensation handler (isForCompensation=\"true\") must have no incoming or outgoing sequence flows and no boundary events")
	}
	if e.ActivityRef != "" {
		b.checkActivityRef(e)
	}
}

func (b *procBuilder) gateway(e *Element) {
	if d := b.nodes[e].attr("default"); d != "" {
		switch f := b.def.Flows[d]; {
		case f == nil:
			if !b.flowIDs[d] {
				b.add(e.ID, "Default flow '%s' does not exist in process '%s'", d, b.def.ID)
			}
		case f.Source != e:
			b.add(e.ID, "Default flow '%s' must start at the gateway", d)
		default:
			e.Default = f
		}
	}
	// With several ways out, a flow without a condition could never be chosen on purpose.
	if len(e.Outgoing) > 1 {
		for _, f := range e.Outgoing {
			if f.Condition == "" && f != e.Default {
				b.add(f.ID, "Must have a condition or be the default flow of gateway '%s'", e.ID)
			}
		}
	}
}

// eventGateway checks that an event-based gateway leads to two or more
// message, timer or signal intermediate catch events (docs: event-based-gateways.md).
func (b *procBuilder) eventGateway(e *Element) {
	if len(e.Outgoing) < 2 {
		b.add(e.ID, "Event-based gateway must have at least 2 outgoing sequence flows")
	}
	for _, f := range e.Outgoing {
		t := f.Target
		if t.Type != IntermediateCatchEvent || (t.EventType != EventMessage && t.EventType != EventTimer && t.EventType != EventSignal) {
			b.add(e.ID, "Event-based gateway must not have an outgoing sequence flow to other elements than message, timer or signal intermediate catch events, found '%s'", t.ID)
		}
	}
}

// activityBoundaries rejects boundary events whose trigger would be ambiguous.
func (b *procBuilder) activityBoundaries(a *Element) {
	byCode := map[string]string{}
	compensation := ""
	for _, bd := range a.Boundaries {
		switch bd.EventType {
		case EventError:
			key, what := "code:"+bd.ErrorCode, fmt.Sprintf("error code '%s'", bd.ErrorCode)
			if bd.CatchAll {
				key, what = "catch-all", "catching all errors"
			}
			if first, dup := byCode[key]; dup {
				b.add(bd.ID, "Activity '%s' already has the error boundary event '%s' %s", a.ID, first, what)
			} else {
				byCode[key] = bd.ID
			}
		case EventEscalation:
			key, what := "esc:"+bd.EscalationCode, fmt.Sprintf("escalation code '%s'", bd.EscalationCode)
			if bd.EscalationCatchAll {
				key, what = "esc-catch-all", "catching all escalations"
			}
			if first, dup := byCode[key]; dup {
				b.add(bd.ID, "Activity '%s' already has the escalation boundary event '%s' %s", a.ID, first, what)
			} else {
				byCode[key] = bd.ID
			}
		case EventCompensation:
			if compensation != "" {
				b.add(bd.ID, "Activity '%s' already has the compensation boundary event '%s'", a.ID, compensation)
			} else {
				compensation = bd.ID
			}
		}
	}
}

// compensationInSubprocess refuses compensation that involves a subprocess:
// Zeebe 8.5 compensates the completed activities inside completed
// subprocesses too, which the local engine does not implement, so such a
// model would behave differently.
func (b *procBuilder) compensationInSubprocess(e *Element) {
	const why = "compensation inside or of an embedded subprocess"
	typ := b.nodes[e].local
	switch {
	case e.EventType != EventCompensation && !e.IsForCompensation:
	case e.Parent != nil:
		b.unsupported(e.ID, typ, "inside an embedded subprocess ("+why+" is not supported by the local engine)")
	case e.Type == SubProcess:
		b.unsupported(e.ID, typ, "as a compensation handler ("+why+" is not supported by the local engine)")
	case e.AttachedTo != nil && e.AttachedTo.Type == SubProcess:
		b.unsupported(e.ID, typ, "attached to a subprocess ("+why+" is not supported by the local engine)")
	}
}

// linkHandler follows a compensation boundary event's association to its handler.
func (b *procBuilder) linkHandler(bd *Element) {
	var handlers []*Element
	for _, t := range b.assocs[bd.ID] {
		if h := b.def.Elements[t]; h != nil {
			handlers = append(handlers, h)
		} else if b.unknown[t] {
			return // an unsupported handler, already reported
		}
		// Other targets are text annotations and the like.
	}
	switch {
	case len(handlers) == 0:
		b.add(bd.ID, "Compensation boundary events must be connected to a compensation handler by an association")
		return
	case len(handlers) > 1:
		b.add(bd.ID, "Compensation boundary events must be connected to exactly one compensation handler, found %d", len(handlers))
		return
	}
	h := handlers[0]
	switch {
	case !h.Type.IsActivity():
		b.add(bd.ID, "The compensation handler '%s' must be an activity", h.ID)
	case !h.IsForCompensation:
		b.add(bd.ID, "The compensation handler '%s' must have isForCompensation=\"true\"", h.ID)
	default:
		bd.CompensationHandler = h
	}
}

func (b *procBuilder) checkActivityRef(e *Element) {
	a := b.def.Elements[e.ActivityRef]
	if a == nil || !a.Type.IsActivity() {
		if !b.unknown[e.ActivityRef] {
			b.add(e.ID, "activityRef '%s' does not reference an activity of process '%s'", e.ActivityRef, b.def.ID)
		}
		return
	}
	for _, bd := range a.Boundaries {
		if bd.EventType == EventCompensation {
			return
		}
	}
	b.add(e.ID, "The activity '%s' referenced by activityRef has no compensation boundary event", a.ID)
}

// eventSubprocess checks an event subprocess (docs: event-subprocesses.md):
// no sequence flows in or out, exactly one start event, and it has an event
// definition.
func (b *procBuilder) eventSubprocess(e *Element) {
	if len(e.Incoming) > 0 || len(e.Outgoing) > 0 {
		b.add(e.ID, "An event subprocess must not have incoming or outgoing sequence flows")
	}
	starts := 0
	for _, c := range e.Children {
		if c.Type == StartEvent {
			starts++
		}
	}
	if starts != 1 {
		b.add(e.ID, "An event subprocess must have exactly one start event, found %d", starts)
	}
}

// linkEvents pairs each link throw event with the link catch event of its
// scope that has its name, as Zeebe does; the problems name the scope (the
// process or subprocess id), with Zeebe's messages.
func (b *procBuilder) linkEvents() {
	scopeID := func(e *Element) string {
		if e.Parent == nil {
			return b.def.ID
		}
		return e.Parent.ID
	}
	catches := map[*Element]map[string]*Element{} // scope (nil: the process) -> name -> catch event
	for _, e := range b.all {
		if e.EventType != EventLink || e.Type != IntermediateCatchEvent || e.LinkName == "" {
			continue
		}
		byName := catches[e.Parent]
		if byName == nil {
			byName = map[string]*Element{}
			catches[e.Parent] = byName
		}
		if _, dup := byName[e.LinkName]; dup {
			b.add(scopeID(e), "Multiple intermediate catch link event definitions with the same name '%s' are not allowed.", e.LinkName)
			continue
		}
		byName[e.LinkName] = e
	}
	for _, e := range b.all {
		if e.EventType != EventLink || e.Type != IntermediateThrowEvent || e.LinkName == "" {
			continue
		}
		if c := catches[e.Parent][e.LinkName]; c != nil {
			e.LinkTarget = c
			continue
		}
		b.add(scopeID(e), "Can't find an catch link event for the throw link event with the name '%s'.", e.LinkName)
	}
}

// eventSubprocessTriggers rejects two event subprocesses of one scope that
// would wait for the same trigger: which one starts would be ambiguous.
func (b *procBuilder) eventSubprocessTriggers(esps []*Element) {
	seen := map[string]string{}
	for _, esp := range esps {
		s := esp.EventStart
		if s == nil {
			continue
		}
		var key, what string
		switch s.EventType {
		case EventError:
			key, what = "error:"+s.ErrorCode, fmt.Sprintf("the error code '%s'", s.ErrorCode)
			if s.CatchAll {
				key, what = "error-catch-all", "all errors"
			}
		case EventEscalation:
			key, what = "escalation:"+s.EscalationCode, fmt.Sprintf("the escalation code '%s'", s.EscalationCode)
			if s.EscalationCatchAll {
				key, what = "escalation-catch-all", "all escalations"
			}
		case EventMessage:
			key, what = "message:"+s.MessageName, fmt.Sprintf("the message '%s'", s.MessageName)
		case EventSignal:
			key, what = "signal:"+s.SignalName, fmt.Sprintf("the signal '%s'", s.SignalName)
		default:
			continue
		}
		if first, dup := seen[key]; dup {
			b.add(s.ID, "The event subprocess '%s' of this scope already starts on %s", first, what)
			continue
		}
		seen[key] = esp.ID
	}
}
