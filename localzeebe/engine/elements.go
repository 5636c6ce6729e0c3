package engine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// The element lifecycle follows Zeebe's: ACTIVATE_ELEMENT → ELEMENT_ACTIVATING
// → ELEMENT_ACTIVATED → (COMPLETE_ELEMENT) → ELEMENT_COMPLETING →
// ELEMENT_COMPLETED → SEQUENCE_FLOW_TAKEN → the next ACTIVATE_ELEMENT; or
// TERMINATE_ELEMENT → ELEMENT_TERMINATING → ELEMENT_TERMINATED.

// newChild prepares an element instance for an ACTIVATE_ELEMENT command.
func (p *proc) newChild(scope *elemInst, el *bpmn.Element, key int64) *elemInst {
	ei := &elemInst{key: key, def: scope.def, el: el, typ: string(el.Type), evType: string(el.EventType),
		flowScope: scope.key, pi: scope.pi, state: "ELEMENT_ACTIVATING", parentEI: scope.parentEI, parentPI: scope.parentPI}
	if ei.evType == "" {
		ei.evType = "UNSPECIFIED"
	}
	if el.MultiInstance != nil && scope.typ != string(bpmn.MultiInstanceBody) {
		ei.typ = string(bpmn.MultiInstanceBody)
	}
	if el.IsForCompensation {
		ei.evType = "COMPENSATION"
	}
	return ei
}

// activate writes the ACTIVATE_ELEMENT command for a new instance of el in scope.
func (p *proc) activate(scope *elemInst, el *bpmn.Element) *elemInst {
	ei := p.newChild(scope, el, p.st.nextKey())
	p.queueActivation(scope, ei)
	return ei
}

func (p *proc) queueActivation(scope, ei *elemInst) {
	scope.tokens++
	p.st.pending[ei.key] = ei
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", ei.key, p.st.value(ei))
}

func (p *proc) transition(ei *elemInst, intent string) {
	ei.state = intent
	p.event(VTProcessInstance, intent, ei.key, p.st.value(ei))
}

func (p *proc) activateElement(key int64, v ProcessInstanceValue) {
	ei := p.st.pending[key]
	if key == -1 {
		if scope := p.st.elems[v.FlowScopeKey]; scope != nil {
			if el := scope.def.model.Elements[v.ElementID]; el != nil {
				ei = p.newChild(scope, el, p.st.nextKey())
				if t := scope.startTrigger; t != nil && t.target == el.ID {
					// A message start event completes with its message's variables.
					ei.trigger, scope.startTrigger = t, nil
				}
			}
		}
	}
	if ei == nil {
		return
	}
	delete(p.st.pending, key)
	if scope := p.st.elems[ei.flowScope]; scope != nil {
		scope.tokens--
		if scope.state == "ELEMENT_TERMINATING" || scope.terminating || interruptedOut(scope, ei.el) {
			// The scope is being terminated or ended by a terminate end event: the token dies with it.
			p.maybeScopeDone(scope)
			return
		}
		scope.children++
	}
	if ei.parentEI != 0 && ei.typ == "PROCESS" {
		if ca := p.st.elems[ei.parentEI]; ca == nil || ca.childPI != ei.key {
			return // its call activity ended before it started
		}
	}
	p.st.elems[ei.key] = ei
	p.transition(ei, "ELEMENT_ACTIVATING")
	p.onActivating(ei)
}

// onActivating runs an element's activation behaviour; an incident stops it,
// and resolving the incident runs it again.
func (p *proc) onActivating(ei *elemInst) {
	if ei.typ == "PROCESS" {
		if !p.subscribeEventSubprocesses(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		starts := ei.starts
		if len(starts) == 0 {
			starts = []*bpmn.Element{ei.def.model.NoneStart}
		}
		for _, el := range starts {
			p.activateStart(ei, el)
		}
		p.boundaryBuffered(ei) // a buffered message for an event subprocess
		return
	}
	el := ei.el
	if len(el.Inputs) > 0 && ei.typ != string(bpmn.MultiInstanceBody) {
		vars, err := p.applyMappings(toMappings(el.Inputs), ei.key, nil)
		if err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return
		}
		sv := p.scopeOf(ei)
		for _, v := range vars {
			p.setLocal(ei.key, sv, v.name, v.raw)
		}
	}
	switch {
	case ei.typ == string(bpmn.MultiInstanceBody):
		p.activateMultiInstance(ei)
	case el.UserTask != nil && el.UserTask.Zeebe:
		// Resolving an incident of a boundary event runs this again: the task stays one.
		t := p.st.userTasks[ei.userTaskKey]
		if t == nil {
			var err error
			if t, err = p.createUserTask(ei); err != nil {
				p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
				return
			}
		}
		if !ei.inner && !p.subscribeBoundaries(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.event(VTUserTask, "CREATED", t.key, t.v)
		p.boundaryBuffered(ei)
	case el.JobBased():
		// Service, send, script, business-rule and job-based user tasks,
		// message throw and end events: Zeebe 8.5 runs them all as jobs.
		if err := p.createJob(ei); err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return
		}
		if !ei.inner && !p.subscribeBoundaries(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.boundaryBuffered(ei)
	case el.Type == bpmn.ReceiveTask:
		// Resolving an incident of a boundary timer runs this again: the subscription stays one.
		if len(ei.msgSubs) == 0 {
			if err := p.openMessageSubscription(ei, el); err != nil {
				p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
				return
			}
		}
		if !ei.inner && !p.subscribeBoundaries(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.correlateBuffered(ei)
	case el.CalledDecisionID != "":
		// A business rule task with zeebe:calledDecision: the decision is
		// evaluated on activation, its result merged on completion.
		if err := p.calledDecision(ei); err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return
		}
		if !ei.inner && !p.subscribeBoundaries(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	case el.Type == bpmn.ScriptTask:
		// A FEEL script (job-based script tasks are matched above): evaluated on
		// activation, its result merged on completion as a job's variables are.
		v, _, err := p.evaluate(el.Script, ei.key, nil)
		if err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return
		}
		raw, err := feel.ToJSON(v)
		if err != nil {
			p.elementIncident(ei, &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("failed to store the result of '%s' in '%s': %v",
				strings.TrimPrefix(strings.TrimSpace(el.Script), "="), el.ResultVariable, err)}, "ACTIVATE_ELEMENT")
			return
		}
		if !ei.inner && !p.subscribeBoundaries(ei) {
			return
		}
		ei.result = []kv{{name: el.ResultVariable, raw: raw}}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	case el.Type == bpmn.SubProcess:
		// An embedded subprocess is a scope like the process: its input
		// mappings (above) are its local variables, and it completes when no
		// token is left inside (maybeScopeDone).
		if !ei.inner && !p.subscribeBoundaries(ei) || !p.subscribeEventSubprocesses(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.activateStart(ei, el.NoneStart)
		p.boundaryBuffered(ei)
	case el.Type == bpmn.EventSubProcess:
		// Entered with its trigger, which its start event completes with.
		if !p.subscribeEventSubprocesses(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.activateStart(ei, el.EventStart)
		p.boundaryBuffered(ei)
	case el.Type == bpmn.CallActivity:
		def, err := p.calledProcess(ei)
		if err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return
		}
		if !p.subscribeBoundaries(ei) {
			return
		}
		p.createChildInstance(ei, def)
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.boundaryBuffered(ei)
	case el.Type == bpmn.StartEvent:
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	case el.Type == bpmn.EndEvent:
		if !p.throwOnActivation(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		switch el.EventType {
		case "ERROR":
			p.throwError(ei, el.ErrorCode, "", nil, nil)
		case "COMPENSATION":
			if p.triggerCompensation(ei) == 0 {
				p.completeDirectly(ei)
			}
		case "TERMINATE":
			// Like a none end event it completes at once; then it ends its flow scope.
			p.completeDirectly(ei)
		default:
			p.completeDirectly(ei)
		}
	case el.Type == bpmn.IntermediateThrowEvent:
		if !p.throwOnActivation(ei) {
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		if el.EventType == "COMPENSATION" && p.triggerCompensation(ei) > 0 {
			return
		}
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	case el.Type == bpmn.IntermediateCatchEvent && ei.trigger != nil:
		// Entered from an event-based gateway whose event it is: the event
		// already occurred, its variables are applied on completion.
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	case el.Type == bpmn.IntermediateCatchEvent && el.EventType == bpmn.EventLink:
		// Entered from its link throw event: it passes through.
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	case el.Type == bpmn.IntermediateCatchEvent:
		switch el.EventType {
		case "MESSAGE":
			if err := p.openMessageSubscription(ei, el); err != nil {
				p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
				return
			}
		case "TIMER":
			if err := p.createTimer(ei, el); err != nil {
				p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
				return
			}
		case "SIGNAL":
			if err := p.openSignalSubscription(ei, el); err != nil {
				p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
				return
			}
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		if el.EventType == "MESSAGE" {
			p.correlateBuffered(ei)
		}
	case el.Type == bpmn.ExclusiveGateway:
		flow, err := p.chooseFlow(ei)
		if err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.transition(ei, "ELEMENT_COMPLETING")
		p.finish(ei, "ELEMENT_COMPLETED")
		scope := p.st.elems[ei.flowScope]
		if flow != nil {
			p.takeFlow(scope, flow)
		} else {
			p.maybeScopeDone(scope)
		}
	case el.Type == bpmn.EventBasedGateway:
		// The gateway holds the subscriptions and timers of the events after
		// it; the first to occur completes it (docs: event-based-gateways.md).
		// Resolving an incident runs this again: start over.
		p.closeSubscriptions(ei)
		for _, f := range el.Outgoing {
			var err error
			switch f.Target.EventType {
			case "MESSAGE":
				err = p.openMessageSubscription(ei, f.Target)
			case "SIGNAL":
				err = p.openSignalSubscription(ei, f.Target)
			default:
				err = p.createTimer(ei, f.Target)
			}
			if err != nil {
				p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
				return
			}
		}
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.correlateBuffered(ei)
	case el.Type == bpmn.ParallelGateway:
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.transition(ei, "ELEMENT_COMPLETING")
		p.finish(ei, "ELEMENT_COMPLETED")
		p.takeOutgoing(p.st.elems[ei.flowScope], el)
	default:
		p.transition(ei, "ELEMENT_ACTIVATED")
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	}
}

// throwOnActivation broadcasts a signal throw or end event's signal, or
// throws an escalation event's escalation; false when the event must not go
// on (an incident, or an interrupting escalation catch event).
func (p *proc) throwOnActivation(ei *elemInst) bool {
	var err error
	cont := true
	switch ei.el.EventType {
	case bpmn.EventSignal:
		err = p.throwSignal(ei)
	case bpmn.EventEscalation:
		cont, err = p.throwEscalation(ei)
	}
	if err != nil {
		p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
		return false
	}
	return cont
}

// activateStart writes the ACTIVATE_ELEMENT command of a scope's first element.
func (p *proc) activateStart(scope *elemInst, el *bpmn.Element) {
	// As in Zeebe, the first element's command has no key yet: it gets one when processed.
	scope.tokens++
	c := p.newChild(scope, el, -1)
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", -1, p.st.value(c))
}

func toMappings(ms []bpmn.Mapping) []mapping {
	out := make([]mapping, len(ms))
	for i, m := range ms {
		out[i] = mapping{source: m.Source, target: m.Target}
	}
	return out
}

// chooseFlow evaluates an exclusive gateway's conditions in document order.
func (p *proc) chooseFlow(ei *elemInst) (*bpmn.SequenceFlow, error) {
	el := ei.el
	if len(el.Outgoing) == 0 {
		return nil, nil
	}
	if len(el.Outgoing) == 1 && el.Outgoing[0].Condition == "" {
		return el.Outgoing[0], nil
	}
	for _, f := range el.Outgoing {
		if f == el.Default || f.Condition == "" {
			continue
		}
		v, err := p.evaluateAs(f.Condition, ei.key, nil, "BOOLEAN")
		if err != nil {
			return nil, err
		}
		if v == true {
			return f, nil
		}
	}
	if el.Default != nil {
		return el.Default, nil
	}
	return nil, &evalError{"CONDITION_ERROR", "Expected at least one condition to evaluate to true, or to have a default flow"}
}

// completeDirectly completes an element within its activation (end events).
func (p *proc) completeDirectly(ei *elemInst) {
	p.transition(ei, "ELEMENT_COMPLETING")
	if !p.applyOutputs(ei) {
		return
	}
	p.finish(ei, "ELEMENT_COMPLETED")
	p.afterCompleted(ei)
}

// finish writes the final transition and removes the instance.
func (p *proc) finish(ei *elemInst, intent string) {
	p.transition(ei, intent)
	delete(p.st.elems, ei.key)
	if ei.typ != "PROCESS" {
		p.deleteScope(ei.key)
	}
	if scope := p.st.elems[ei.flowScope]; scope != nil {
		scope.children--
	}
}

// completeElement processes COMPLETE_ELEMENT.
func (p *proc) completeElement(ei *elemInst) {
	p.transition(ei, "ELEMENT_COMPLETING")
	p.onCompleting(ei)
}

func (p *proc) onCompleting(ei *elemInst) {
	if ei.typ == "PROCESS" {
		p.completeProcess(ei)
		return
	}
	if ei.el.Type == bpmn.EventBasedGateway {
		p.completeEventGateway(ei)
		return
	}
	if !p.applyOutputs(ei) {
		return
	}
	if ei.inner {
		if !p.collectOutput(ei) {
			return
		}
	}
	p.closeSubscriptions(ei)
	p.createCompensationSubscription(ei)
	p.finish(ei, "ELEMENT_COMPLETED")
	p.afterCompleted(ei)
}

// applyOutputs consumes the trigger and merges the element's variables into
// its flow scope; false when an incident stopped it.
func (p *proc) applyOutputs(ei *elemInst) bool {
	var vars []kv
	if t := ei.trigger; t != nil {
		p.event(VTProcessEvent, "TRIGGERED", t.key, p.processEventValue(ei, t))
		ei.trigger = nil
		var err error
		if vars, err = ParseDocument(t.variables); err != nil {
			vars = nil
		}
	}
	if ei.result != nil {
		vars = append(vars, ei.result...)
		ei.result = nil
	}
	if ei.typ == string(bpmn.MultiInstanceBody) {
		if ei.el.MultiInstance.OutputCollection != "" {
			raw, _ := p.lookupRaw(ei.key, ei.el.MultiInstance.OutputCollection)
			if raw == nil {
				raw = json.RawMessage("[]")
			}
			p.propagate(ei.flowScope, []kv{{name: ei.el.MultiInstance.OutputCollection, raw: raw}})
		}
		return true
	}
	el := ei.el
	if el == nil {
		return true
	}
	errorCatch := (el.Type == bpmn.BoundaryEvent || el.Type == bpmn.StartEvent) && el.EventType == "ERROR"
	if len(el.Outputs) == 0 {
		switch {
		case errorCatch:
			// Error variables stay local to the catch event unless it has
			// output mappings (a boundary event's are set on its activation).
			for _, v := range vars {
				p.setLocal(ei.key, p.scopeOf(ei), v.name, v.raw)
			}
		case len(vars) > 0:
			p.propagate(ei.key, vars)
		}
		return true
	}
	sv := p.scopeOf(ei)
	for _, v := range vars {
		p.setLocal(ei.key, sv, v.name, v.raw)
	}
	out, err := p.applyMappings(toMappings(el.Outputs), ei.key, map[string]any{})
	if err != nil {
		p.elementIncident(ei, err, "COMPLETE_ELEMENT")
		return false
	}
	target := ei.flowScope
	if ei.inner {
		target = ei.key
	}
	p.propagate(target, out)
	return true
}

func (p *proc) processEventValue(ei *elemInst, t *processEvent) ProcessEventValue {
	return ProcessEventValue{ScopeKey: t.scope, TargetElementID: t.target, Variables: docOrEmpty(t.variables),
		ProcessDefinitionKey: ei.def.key, ProcessInstanceKey: ei.pi, TenantID: DefaultTenant}
}

// afterCompleted continues after an element completed: flows, handlers,
// multi-instance bookkeeping, or the scope's own completion.
func (p *proc) afterCompleted(ei *elemInst) {
	scope := p.st.elems[ei.flowScope]
	if scope == nil {
		return
	}
	switch {
	case ei.compSub != nil:
		p.compensationHandlerDone(ei)
	case ei.inner:
		p.innerInstanceDone(scope, ei, false)
	case ei.el.EventType == bpmn.EventTerminate:
		p.terminateFlowScope(scope)
	case ei.el.LinkTarget != nil:
		// A link throw event goes on at its catch event, without a sequence flow.
		p.activate(scope, ei.el.LinkTarget)
	default:
		p.takeOutgoing(scope, ei.el)
	}
}

// terminateFlowScope ends the scope of a completed terminate end event: its
// other element instances are terminated, tokens in flight or waiting at
// joins are dropped, and the scope completes once nothing is left (docs:
// terminate-events.md; Zeebe completes the scope rather than terminating it).
func (p *proc) terminateFlowScope(scope *elemInst) {
	scope.terminating = true
	for _, k := range sortedKeys(p.st.elems) {
		c := p.st.elems[k]
		if c.flowScope == scope.key && c.state != "ELEMENT_TERMINATING" && c.state != "TERMINATE_REQUESTED" {
			p.command(VTProcessInstance, "TERMINATE_ELEMENT", c.key, p.st.value(c))
			c.state = "TERMINATE_REQUESTED"
		}
	}
	for _, j := range scope.joins {
		for f, n := range j {
			scope.tokens -= n
			j[f] = 0
		}
	}
	p.maybeScopeDone(scope)
}

func (p *proc) takeOutgoing(scope *elemInst, el *bpmn.Element) {
	if len(el.Outgoing) == 0 {
		p.maybeScopeDone(scope)
		return
	}
	for _, f := range el.Outgoing {
		p.takeFlow(scope, f)
	}
}

// completeEventGateway completes an event-based gateway whose event
// occurred: the other events are cancelled, and the event's catch event is
// entered with the trigger, so it completes at once.
func (p *proc) completeEventGateway(ei *elemInst) {
	t := ei.trigger
	ei.trigger = nil
	p.closeSubscriptions(ei)
	p.finish(ei, "ELEMENT_COMPLETED")
	scope := p.st.elems[ei.flowScope]
	for _, f := range ei.el.Outgoing {
		if t != nil && f.Target.ID == t.target {
			if c := p.takeFlow(scope, f); c != nil {
				c.trigger = t
			}
			return
		}
	}
	p.maybeScopeDone(scope)
}

// takeFlow writes SEQUENCE_FLOW_TAKEN and activates the target, or waits at
// a join (nil).
func (p *proc) takeFlow(scope *elemInst, f *bpmn.SequenceFlow) *elemInst {
	v := ProcessInstanceValue{
		BpmnProcessID: scope.def.id, Version: scope.def.version, ProcessDefinitionKey: scope.def.key, ProcessInstanceKey: scope.pi,
		ElementID: f.ID, FlowScopeKey: scope.key, BpmnElementType: "SEQUENCE_FLOW", ParentProcessInstanceKey: -1,
		ParentElementInstanceKey: -1, BpmnEventType: "UNSPECIFIED", TenantID: DefaultTenant}
	if scope.parentEI != 0 {
		v.ParentProcessInstanceKey, v.ParentElementInstanceKey = scope.parentPI, scope.parentEI
	}
	p.event(VTProcessInstance, "SEQUENCE_FLOW_TAKEN", p.st.nextKey(), v)
	t := f.Target
	if t.Type == bpmn.ParallelGateway && len(t.Incoming) > 1 {
		if scope.joins == nil {
			scope.joins = map[string]map[string]int{}
		}
		j := scope.joins[t.ID]
		if j == nil {
			j = map[string]int{}
			scope.joins[t.ID] = j
		}
		j[f.ID]++
		scope.tokens++
		for _, in := range t.Incoming {
			if j[in.ID] == 0 {
				return nil
			}
		}
		for _, in := range t.Incoming {
			j[in.ID]--
			scope.tokens--
		}
	}
	return p.activate(scope, t)
}

// maybeScopeDone completes (or finishes terminating) a scope with nothing left in it.
func (p *proc) maybeScopeDone(scope *elemInst) {
	if scope == nil || scope.children > 0 || scope.tokens > 0 {
		return
	}
	switch scope.state {
	case "ELEMENT_ACTIVATED":
		if p.startInterrupting(scope) {
			return
		}
		if scope.typ == "PROCESS" || scope.typ == string(bpmn.SubProcess) || scope.typ == string(bpmn.EventSubProcess) {
			p.command(VTProcessInstance, "COMPLETE_ELEMENT", scope.key, p.st.value(scope))
		}
	case "ELEMENT_TERMINATING":
		p.terminated(scope)
	}
}

func (p *proc) completeProcess(ei *elemInst) {
	p.closeSubscriptions(ei) // its event subprocesses'
	for _, cs := range p.st.compSubs[ei.pi] {
		p.event(VTCompensationSubscription, "DELETED", cs.key, cs.v)
	}
	delete(p.st.compSubs, ei.pi)
	var result *InstanceResult
	if ei.withResult {
		result = &InstanceResult{Created: Created{ProcessDefinitionKey: ei.def.key, BpmnProcessID: ei.def.id,
			Version: ei.def.version, ProcessInstanceKey: ei.pi}, Variables: p.visible(ei.key, ei.fetchVariables)}
	}
	var childVars []kv
	if ei.parentEI != 0 {
		childVars = p.rootVars(ei.key)
	}
	p.finish(ei, "ELEMENT_COMPLETED")
	p.deleteScope(ei.key)
	p.releaseStartKey(ei)
	if result != nil {
		p.finished = append(p.finished, result)
	}
	if ei.parentEI != 0 {
		p.childCompleted(ei.parentEI, childVars)
	}
}

// terminateElement processes TERMINATE_ELEMENT.
func (p *proc) terminateElement(ei *elemInst) {
	p.transition(ei, "ELEMENT_TERMINATING")
	p.cancelJob(ei)
	p.cancelUserTask(ei)
	p.resolveElementIncidents(ei)
	p.closeSubscriptions(ei)
	if ei.children > 0 || ei.tokens > 0 {
		for _, k := range sortedKeys(p.st.elems) {
			c := p.st.elems[k]
			if c.flowScope == ei.key && c.state != "ELEMENT_TERMINATING" {
				p.command(VTProcessInstance, "TERMINATE_ELEMENT", c.key, p.st.value(c))
				c.state = "TERMINATE_REQUESTED"
			}
		}
		// Tokens waiting at joins die with the scope.
		for _, j := range ei.joins {
			for f, n := range j {
				ei.tokens -= n
				j[f] = 0
			}
		}
		if ei.children > 0 || ei.tokens > 0 {
			return
		}
	}
	if p.terminateChild(ei) {
		return // the call activity is terminated when its child instance is
	}
	p.terminated(ei)
}

// terminated writes ELEMENT_TERMINATED and continues with whatever interrupted it.
func (p *proc) terminated(ei *elemInst) {
	if ei.typ == "PROCESS" {
		for _, cs := range p.st.compSubs[ei.pi] {
			p.event(VTCompensationSubscription, "DELETED", cs.key, cs.v)
		}
		delete(p.st.compSubs, ei.pi)
		p.finish(ei, "ELEMENT_TERMINATED")
		p.deleteScope(ei.key)
		for _, k := range sortedKeys(p.st.vars) {
			if p.st.vars[k].pi == ei.pi {
				delete(p.st.vars, k)
			}
		}
		p.releaseStartKey(ei)
		if ca := p.st.elems[ei.parentEI]; ei.parentEI != 0 && ca != nil && ca.state == "ELEMENT_TERMINATING" {
			ca.childPI = 0
			p.terminated(ca)
		}
		return
	}
	p.finish(ei, "ELEMENT_TERMINATED")
	scope := p.st.elems[ei.flowScope]
	if scope == nil {
		return
	}
	if t := ei.interruptedBy; t != nil {
		p.event(VTProcessEvent, "TRIGGERED", t.key, p.processEventValue(ei, t))
		p.activateBoundary(scope, ei.el, t)
		return
	}
	if scope.typ == string(bpmn.MultiInstanceBody) && (scope.state == "ELEMENT_ACTIVATED" || scope.state == "MI_COMPLETING") {
		p.innerInstanceDone(scope, ei, true)
		return
	}
	p.maybeScopeDone(scope)
}

// activateBoundary activates the boundary event t.target of activity el.
func (p *proc) activateBoundary(scope *elemInst, el *bpmn.Element, t *processEvent) {
	var b *bpmn.Element
	for _, x := range el.Boundaries {
		if x.ID == t.target {
			b = x
		}
	}
	if b == nil {
		return
	}
	be := p.newChild(scope, b, p.st.nextKey())
	scope.children++
	p.st.elems[be.key] = be
	p.transition(be, "ELEMENT_ACTIVATING")
	if vars, err := ParseDocument(t.variables); err == nil && len(vars) > 0 {
		if b.EventType == "MESSAGE" || b.EventType == "SIGNAL" {
			// A message's or signal's variables are merged on completion, as at a catch event.
			be.result = vars
		} else {
			// The thrown variables become local variables of the catch event.
			sv := p.scopeOf(be)
			for _, v := range vars {
				p.setLocal(be.key, sv, v.name, v.raw)
			}
		}
	}
	p.transition(be, "ELEMENT_ACTIVATED")
	p.command(VTProcessInstance, "COMPLETE_ELEMENT", be.key, p.st.value(be))
}

// elementIncident raises an incident for a failed expression or mapping; the
// element waits where it is until the incident is resolved.
func (p *proc) elementIncident(ei *elemInst, err error, failed string) {
	typ, msg := "UNKNOWN", err.Error()
	if ee, ok := err.(*evalError); ok {
		typ, msg = ee.errorType, ee.message
	}
	ei.failedCmd = failed
	k := p.st.nextKey()
	inc := &incident{key: k, v: IncidentValue{ErrorType: typ, ErrorMessage: msg, BpmnProcessID: ei.def.id,
		ProcessDefinitionKey: ei.def.key, ProcessInstanceKey: ei.pi, ElementID: elementID(ei), ElementInstanceKey: ei.key,
		JobKey: -1, VariableScopeKey: ei.key, TenantID: DefaultTenant}}
	p.st.incidents[k] = inc
	ei.incidentKey = k
	p.event(VTIncident, "CREATED", k, inc.v)
}

func elementID(ei *elemInst) string {
	if ei.el == nil {
		return ei.def.id
	}
	return ei.el.ID
}

func (p *proc) resolveElementIncidents(ei *elemInst) {
	if ei.incidentKey != 0 {
		if inc := p.st.incidents[ei.incidentKey]; inc != nil {
			delete(p.st.incidents, inc.key)
			p.event(VTIncident, "RESOLVED", inc.key, inc.v)
		}
		ei.incidentKey = 0
	}
}

// subscribeBoundaries opens the timers and message subscriptions of an
// activity's boundary events. Resolving an incident runs it again: the
// boundaries subscribed before it are not subscribed twice.
func (p *proc) subscribeBoundaries(ei *elemInst) bool {
	for _, b := range ei.el.Boundaries {
		if b.EventType != "TIMER" && b.EventType != "MESSAGE" && b.EventType != "SIGNAL" || p.subscribed(ei, b.ID) {
			continue
		}
		var err error
		switch b.EventType {
		case "TIMER":
			err = p.createTimer(ei, b)
		case "SIGNAL":
			err = p.openSignalSubscription(ei, b)
		default:
			err = p.openMessageSubscription(ei, b)
		}
		if err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return false
		}
	}
	return true
}

// subscribed reports whether ei holds a timer or subscription for the event id.
func (p *proc) subscribed(ei *elemInst, id string) bool {
	for _, k := range ei.timerKeys {
		if t := p.st.timers[k]; t != nil && t.v.TargetElementID == id {
			return true
		}
	}
	for _, s := range ei.msgSubs {
		if s.elementID == id {
			return true
		}
	}
	for _, s := range ei.signalSubs {
		if s.el.ID == id {
			return true
		}
	}
	return false
}

// boundaryBuffered correlates a buffered message to a message boundary
// event of an activity that just became active.
func (p *proc) boundaryBuffered(ei *elemInst) {
	if len(ei.msgSubs) > 0 {
		p.correlateBuffered(ei)
	}
}

// throwError looks for a catch event from ei upwards; uncaught, it raises an
// incident (on the job if there is one).
func (p *proc) throwError(ei *elemInst, code, message string, vars json.RawMessage, j *job) {
	var available []string
	for cur := ei; cur != nil; cur = p.outerOf(cur) {
		if cur.state == "ELEMENT_TERMINATING" || cur.state == "TERMINATE_REQUESTED" {
			continue
		}
		// The scope's error event subprocesses, inside it, come before its
		// boundary events, outside; a code beats a catch-all in the same scope.
		var catches []*bpmn.Element
		if cur.interrupt == nil {
			for _, esp := range eventSubsOf(cur) {
				if esp.EventStart != nil && esp.EventStart.EventType == bpmn.EventError {
					catches = append(catches, esp.EventStart)
				}
			}
		}
		if cur.el != nil && !cur.inner {
			for _, b := range cur.el.Boundaries {
				if b.EventType == bpmn.EventError {
					catches = append(catches, b)
				}
			}
		}
		var match *bpmn.Element
		for _, c := range catches {
			if !c.CatchAll {
				available = append(available, c.ErrorCode)
			}
			if !c.CatchAll && c.ErrorCode == code && match == nil {
				match = c
			}
		}
		for _, c := range catches {
			if c.CatchAll && match == nil {
				match = c
			}
		}
		if match == nil {
			continue
		}
		if j != nil {
			p.removeJob(j)
			ej := j.v
			p.event(VTJob, "ERROR_THROWN", j.key, ej)
			ei.jobKey = 0
		}
		if match.Type == bpmn.StartEvent {
			p.triggerEventSubprocess(cur, match.Parent, vars)
			return
		}
		t := &processEvent{key: p.st.nextKey(), target: match.ID, scope: cur.key, variables: docOrEmpty(vars)}
		p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(cur, t))
		cur.interruptedBy = t
		p.command(VTProcessInstance, "TERMINATE_ELEMENT", cur.key, p.st.value(cur))
		return
	}
	msg := fmt.Sprintf("Expected to throw an error event with the code '%s'", code)
	if message != "" {
		msg += fmt.Sprintf(" with message '%s'", message)
	}
	msg += ", but it was not caught."
	if len(available) == 0 {
		msg += " No error events are available in the scope."
	} else {
		msg += " Available error events are [" + strings.Join(available, ", ") + "]"
	}
	if j != nil {
		j.state = jobErrorThrown
		p.st.activatable[j.v.Type].remove(j.key)
		p.event(VTJob, "ERROR_THROWN", j.key, j.v)
		k := p.st.nextKey()
		inc := &incident{key: k, v: IncidentValue{ErrorType: "UNHANDLED_ERROR_EVENT", ErrorMessage: msg, BpmnProcessID: j.v.BpmnProcessID,
			ProcessDefinitionKey: j.v.ProcessDefinitionKey, ProcessInstanceKey: j.v.ProcessInstanceKey, ElementID: j.v.ElementID,
			ElementInstanceKey: j.v.ElementInstanceKey, JobKey: j.key, VariableScopeKey: j.v.ElementInstanceKey, TenantID: DefaultTenant}}
		p.st.incidents[k] = inc
		j.incidentKey = k
		p.event(VTIncident, "CREATED", k, inc.v)
		return
	}
	p.elementIncident(ei, &evalError{"UNHANDLED_ERROR_EVENT", msg}, "ACTIVATE_ELEMENT")
}

// feelList decodes a JSON list's items.
func feelList(v any) ([]json.RawMessage, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]json.RawMessage, len(l))
	for i, x := range l {
		raw, err := feel.ToJSON(x)
		if err != nil {
			return nil, false
		}
		out[i] = raw
	}
	return out, true
}
