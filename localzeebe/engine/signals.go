package engine

import (
	"context"
	"encoding/json"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
)

// Signals (docs: signal-events.md, Zeebe 8.5): a broadcast signal starts an
// instance for every signal start event subscription with its name and
// triggers every catch, boundary and event-based gateway subscription with
// it, all at once and in the order they were opened. Deploying a process
// opens SIGNAL_SUBSCRIPTIONs for its signal start events and deletes the
// previous version's; an element's subscription lives as long as the
// element waits. A signal nobody waits for is gone: signals are not buffered.

// BroadcastSignal broadcasts a signal and returns its key.
func (e *Engine) BroadcastSignal(ctx context.Context, name string, vars json.RawMessage) (int64, error) {
	out, err := e.submit(ctx, &Record{ValueType: VTSignal, Intent: "BROADCAST", Key: -1, Value: &SignalValue{
		SignalName: name, Variables: docOrEmpty(vars), TenantID: DefaultTenant}})
	if err != nil {
		return 0, err
	}
	return out.(int64), nil
}

func signalSubValue(s *signalSub) SignalSubscriptionValue {
	v := SignalSubscriptionValue{ProcessDefinitionKey: s.def.key, BpmnProcessID: s.def.id, CatchEventID: s.el.ID,
		CatchEventInstanceKey: s.elemKey, SignalName: s.name, TenantID: DefaultTenant}
	return v
}

// broadcast processes SIGNAL BROADCAST, from a client (key -1) or from a
// signal throw or end event (the key it was given).
func (p *proc) broadcast(key int64, v *SignalValue) int64 {
	if key < 0 {
		key = p.st.nextKey()
	}
	out := *v
	out.Variables = docOrEmpty(v.Variables)
	p.event(VTSignal, "BROADCASTED", key, out)
	// Subscriptions opened by what the signal triggers do not see it.
	for _, s := range append([]*signalSub(nil), p.st.signalSubs...) {
		if s.name != v.SignalName || !p.signalSubOpen(s) {
			continue
		}
		if s.elemKey < 0 {
			p.startBySignal(s, out.Variables)
			continue
		}
		p.triggerSignal(s, out.Variables)
	}
	return key
}

// signalSubOpen reports whether an earlier trigger of the same broadcast
// did not close the subscription.
func (p *proc) signalSubOpen(s *signalSub) bool {
	for _, x := range p.st.signalSubs {
		if x == s {
			return true
		}
	}
	return false
}

// openSignalStartSubscriptions replaces the signal start event
// subscriptions of pd's process id with pd's own.
func (p *proc) openSignalStartSubscriptions(pd *procDef) {
	var kept []*signalSub
	for _, s := range p.st.signalSubs {
		if s.elemKey < 0 && s.def.id == pd.id {
			p.event(VTSignalSubscription, "DELETED", s.key, signalSubValue(s))
			continue
		}
		kept = append(kept, s)
	}
	p.st.signalSubs = kept
	for _, el := range pd.model.SignalStarts {
		s := &signalSub{key: p.st.nextKey(), def: pd, el: el, elemKey: -1, name: el.SignalName}
		p.st.signalSubs = append(p.st.signalSubs, s)
		p.event(VTSignalSubscription, "CREATED", s.key, signalSubValue(s))
	}
}

// startBySignal creates an instance at a signal start event; the signal's
// variables reach the process when the start event completes.
func (p *proc) startBySignal(s *signalSub, vars json.RawMessage) {
	def := s.def
	pi := p.st.nextKey()
	t := &processEvent{key: p.st.nextKey(), target: s.el.ID, scope: def.key, variables: vars}
	root := &elemInst{key: pi, def: def, typ: "PROCESS", evType: "UNSPECIFIED", flowScope: -1, pi: pi,
		starts: []*bpmn.Element{s.el}, startTrigger: t}
	p.scope(pi, -1, pi, def)
	p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(root, t))
	p.st.pending[pi] = root
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", pi, p.st.value(root))
}

// openSignalSubscription subscribes ei to the signal of el: ei's own catch
// event, one of its boundary events, or an event after ei, an event-based gateway.
func (p *proc) openSignalSubscription(ei *elemInst, el *bpmn.Element) error {
	v, err := p.evaluateAs(el.SignalName, ei.key, nil, "STRING")
	if err != nil {
		return err
	}
	s := &signalSub{key: p.st.nextKey(), def: ei.def, el: el, elemKey: ei.key, name: v.(string)}
	p.st.signalSubs = append(p.st.signalSubs, s)
	ei.signalSubs = append(ei.signalSubs, s)
	p.event(VTSignalSubscription, "CREATED", s.key, signalSubValue(s))
	return nil
}

// closeSignalSubscriptions deletes an element instance's signal subscriptions.
func (p *proc) closeSignalSubscriptions(ei *elemInst) {
	if len(ei.signalSubs) == 0 {
		return
	}
	for _, s := range ei.signalSubs {
		p.dropSignalSub(s)
		p.event(VTSignalSubscription, "DELETED", s.key, signalSubValue(s))
	}
	ei.signalSubs = nil
}

// triggerSignal triggers an element's subscription: a catch event or an
// event-based gateway completes, an interrupting boundary event terminates
// its activity first, a non-interrupting one starts beside it. The
// subscription is deleted when its element closes its subscriptions.
func (p *proc) triggerSignal(s *signalSub, vars json.RawMessage) {
	ei := p.st.elems[s.elemKey]
	if ei == nil || ei.state != "ELEMENT_ACTIVATED" || ei.interruptedBy != nil || ei.trigger != nil || ei.interrupt != nil {
		return
	}
	if esp := espStart(ei, s.el.ID); esp != nil {
		p.triggerEventSubprocess(ei, esp, vars)
		return
	}
	t := &processEvent{key: p.st.nextKey(), target: s.el.ID, scope: ei.key, variables: vars}
	p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(ei, t))
	b := boundaryOf(ei, s.el.ID)
	switch {
	case b != nil && !b.CancelActivity:
		p.triggerNonInterrupting(ei, t)
	case b != nil:
		ei.interruptedBy = t
		p.command(VTProcessInstance, "TERMINATE_ELEMENT", ei.key, p.st.value(ei))
	default:
		// The catch event itself, or the event-based gateway before it,
		// which passes the trigger on to it.
		ei.trigger = t
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
	}
}

// throwSignal writes the SIGNAL BROADCAST command of a signal throw or end
// event, with the event's local variables (its input mappings) as the
// signal's variables.
func (p *proc) throwSignal(ei *elemInst) error {
	v, err := p.evaluateAs(ei.el.SignalName, ei.key, nil, "STRING")
	if err != nil {
		return err
	}
	vars := json.RawMessage(`{}`)
	if sv := p.st.vars[ei.key]; sv != nil && len(sv.names) > 0 {
		var kvs []kv
		for _, n := range sv.names {
			kvs = append(kvs, kv{name: n, raw: sv.vals[n]})
		}
		vars = encodeDocument(kvs)
	}
	p.command(VTSignal, "BROADCAST", p.st.nextKey(), &SignalValue{SignalName: v.(string), Variables: vars, TenantID: DefaultTenant})
	return nil
}

// dropSignalSub removes a subscription from the broadcast list.
func (p *proc) dropSignalSub(s *signalSub) {
	for i, x := range p.st.signalSubs {
		if x == s {
			p.st.signalSubs = append(p.st.signalSubs[:i:i], p.st.signalSubs[i+1:]...)
			return
		}
	}
}
