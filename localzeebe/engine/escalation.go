package engine

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// Escalations (docs: escalation-events.md, Zeebe 8.5): an escalation
// intermediate throw or end event looks for a catch event from its scope
// upwards, through call activities: the event subprocesses of each scope,
// then the scope's boundary events, a code before a catch-all. A caught
// escalation is recorded as ESCALATION ESCALATED and triggers the catch
// event: an interrupting one interrupts its scope (the throw event ends
// with it), a non-interrupting one starts beside it and the throw event
// goes on. An uncaught one is recorded as NOT_ESCALATED and the throw event
// simply goes on: no incident.

// throwEscalation throws the escalation of ei; cont is false when an
// interrupting catch event takes ei's scope, so ei must not complete.
func (p *proc) throwEscalation(ei *elemInst) (cont bool, err error) {
	code := ei.el.EscalationCode
	if feel.IsExpression(code) {
		v, err := p.evaluateAs(code, ei.key, nil, "STRING")
		if err != nil {
			return false, err
		}
		code = v.(string)
	}
	v := EscalationValue{ProcessInstanceKey: ei.pi, EscalationCode: code, ThrowElementID: ei.el.ID, TenantID: DefaultTenant}
	for cur := ei; cur != nil; cur = p.outerOf(cur) {
		if cur.state == "ELEMENT_TERMINATING" || cur.state == "TERMINATE_REQUESTED" {
			continue
		}
		match := escalationCatch(cur, code)
		if match == nil {
			continue
		}
		v.CatchElementID = match.ID
		p.event(VTEscalation, "ESCALATED", p.st.nextKey(), v)
		if match.Type == bpmn.StartEvent {
			p.triggerEventSubprocess(cur, match.Parent, nil)
			return !match.CancelActivity, nil
		}
		t := &processEvent{key: p.st.nextKey(), target: match.ID, scope: cur.key, variables: docOrEmpty(nil)}
		p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(cur, t))
		if !match.CancelActivity {
			p.triggerNonInterrupting(cur, t)
			return true, nil
		}
		cur.interruptedBy = t
		p.command(VTProcessInstance, "TERMINATE_ELEMENT", cur.key, p.st.value(cur))
		return false, nil
	}
	p.event(VTEscalation, "NOT_ESCALATED", p.st.nextKey(), v)
	return true, nil
}

// escalationCatch returns the catch event of cur for the code: its event
// subprocesses' start events first (inside the scope), then its boundary
// events; a code before a catch-all.
func escalationCatch(cur *elemInst, code string) *bpmn.Element {
	var catches []*bpmn.Element
	if cur.interrupt == nil {
		for _, esp := range eventSubsOf(cur) {
			if esp.EventStart != nil && esp.EventStart.EventType == bpmn.EventEscalation {
				catches = append(catches, esp.EventStart)
			}
		}
	}
	if cur.el != nil && !cur.inner && cur.interruptedBy == nil {
		for _, b := range cur.el.Boundaries {
			if b.EventType == bpmn.EventEscalation {
				catches = append(catches, b)
			}
		}
	}
	for _, c := range catches {
		if !c.EscalationCatchAll && c.EscalationCode == code {
			return c
		}
	}
	for _, c := range catches {
		if c.EscalationCatchAll {
			return c
		}
	}
	return nil
}
