package engine

import (
	"encoding/json"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
)

// Event subprocesses (docs: event-subprocesses.md, Zeebe 8.5): the scope
// that holds one (the process, an embedded or event subprocess) subscribes
// to its start event's message, timer or signal when it is activated, as an
// activity does for its boundary events, and keeps the subscription while it
// is active. A non-interrupting trigger activates the event subprocess in the
// scope, which goes on; an interrupting one closes the scope's event
// subprocess subscriptions, terminates everything else in the scope, then
// activates the event subprocess. The scope completes when nothing is left
// in it, the event subprocesses included. An event subprocess is a variable
// scope of its own whose variables are dropped with it unless its output
// mappings take them; the trigger's variables are merged from its start event.

// espInterrupt is a scope's pending or running interrupting event subprocess.
type espInterrupt struct {
	el        *bpmn.Element // the event subprocess
	trigger   *processEvent
	activated bool
}

// eventSubsOf lists the event subprocesses a scope instance holds.
func eventSubsOf(ei *elemInst) []*bpmn.Element {
	switch {
	case ei.typ == "PROCESS":
		return ei.def.model.EventSubs
	case ei.el != nil && ei.typ != string(bpmn.MultiInstanceBody):
		return ei.el.EventSubs
	}
	return nil
}

// espStart returns the event subprocess of scope ei whose start event is id, nil if none.
func espStart(ei *elemInst, id string) *bpmn.Element {
	for _, esp := range eventSubsOf(ei) {
		if esp.EventStart != nil && esp.EventStart.ID == id {
			return esp
		}
	}
	return nil
}

// subscribeEventSubprocesses opens the message, timer and signal
// subscriptions of a scope's event subprocess start events; false when an
// incident stopped it. Resolving the incident runs it again: what was
// subscribed before is not subscribed twice.
func (p *proc) subscribeEventSubprocesses(ei *elemInst) bool {
	for _, esp := range eventSubsOf(ei) {
		s := esp.EventStart
		if s == nil || p.subscribed(ei, s.ID) {
			continue
		}
		var err error
		switch s.EventType {
		case bpmn.EventMessage:
			err = p.openMessageSubscription(ei, s)
		case bpmn.EventTimer:
			err = p.createTimer(ei, s)
		case bpmn.EventSignal:
			err = p.openSignalSubscription(ei, s)
		default:
			continue // error and escalation starts are found when thrown
		}
		if err != nil {
			p.elementIncident(ei, err, "ACTIVATE_ELEMENT")
			return false
		}
	}
	return true
}

// triggerEventSubprocess starts the event subprocess esp of scope with the
// trigger's variables, interrupting the scope or not.
func (p *proc) triggerEventSubprocess(scope *elemInst, esp *bpmn.Element, vars json.RawMessage) {
	t := &processEvent{key: p.st.nextKey(), target: esp.EventStart.ID, scope: scope.key, variables: docOrEmpty(vars)}
	p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(scope, t))
	if !esp.EventStart.CancelActivity {
		p.activateEventSubprocess(scope, esp, t)
		return
	}
	scope.interrupt = &espInterrupt{el: esp, trigger: t}
	p.closeEventSubprocessSubscriptions(scope)
	for _, k := range sortedKeys(p.st.elems) {
		c := p.st.elems[k]
		if c.flowScope == scope.key && c.state != "ELEMENT_TERMINATING" && c.state != "TERMINATE_REQUESTED" {
			p.command(VTProcessInstance, "TERMINATE_ELEMENT", c.key, p.st.value(c))
			c.state = "TERMINATE_REQUESTED"
		}
	}
	// Tokens waiting at joins die with the interrupted flow.
	for _, j := range scope.joins {
		for f, n := range j {
			scope.tokens -= n
			j[f] = 0
		}
	}
	p.maybeScopeDone(scope)
}

// activateEventSubprocess writes the event subprocess's ACTIVATE_ELEMENT; its
// start event completes with the trigger.
func (p *proc) activateEventSubprocess(scope *elemInst, esp *bpmn.Element, t *processEvent) {
	ei := p.newChild(scope, esp, p.st.nextKey())
	ei.startTrigger = t
	p.queueActivation(scope, ei)
}

// closeEventSubprocessSubscriptions closes a scope's subscriptions for its
// event subprocess start events; those of its boundary events stay.
func (p *proc) closeEventSubprocessSubscriptions(scope *elemInst) {
	var keepTimers []int64
	for _, k := range scope.timerKeys {
		t := p.st.timers[k]
		switch {
		case t == nil:
		case espStart(scope, t.v.TargetElementID) != nil:
			delete(p.st.timers, k)
			p.event(VTTimer, "CANCELED", k, t.v)
		default:
			keepTimers = append(keepTimers, k)
		}
	}
	scope.timerKeys = keepTimers
	var keepMsgs []*msgSub
	for _, s := range scope.msgSubs {
		if espStart(scope, s.elementID) == nil {
			keepMsgs = append(keepMsgs, s)
			continue
		}
		p.removeMsgSub(s)
		p.event(VTProcessMessageSubscr, "DELETED", s.key, p.msgSubValue(s, -1, nil))
	}
	scope.msgSubs = keepMsgs
	var keepSignals []*signalSub
	for _, s := range scope.signalSubs {
		if espStart(scope, s.el.ID) == nil {
			keepSignals = append(keepSignals, s)
			continue
		}
		p.dropSignalSub(s)
		p.event(VTSignalSubscription, "DELETED", s.key, signalSubValue(s))
	}
	scope.signalSubs = keepSignals
}

// interruptedOut reports whether a token activating el in scope dies
// because an interrupting event subprocess took the scope over.
func interruptedOut(scope *elemInst, el *bpmn.Element) bool {
	return scope.interrupt != nil && el != scope.interrupt.el
}

// startInterrupting activates the pending interrupting event subprocess of
// a scope that has nothing else left; false when there is none.
func (p *proc) startInterrupting(scope *elemInst) bool {
	in := scope.interrupt
	if in == nil || in.activated {
		return false
	}
	in.activated = true
	p.activateEventSubprocess(scope, in.el, in.trigger)
	return true
}
