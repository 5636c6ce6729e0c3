package engine

import (
	"encoding/json"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
)

// Message start events (docs: message-events.md "Message start events"):
// deploying a process opens a subscription for each of its message start
// events and closes those of the previous version; a published message with
// the name starts an instance of each such process, at most once per process
// id; with a correlation key, not while an instance that a message with the
// same key started is still active. Messages published before the deployment
// never start an instance.

func startSubValue(s *startSub, pi, msgKey int64, corr string, vars json.RawMessage) MessageStartSubscriptionValue {
	return MessageStartSubscriptionValue{ProcessDefinitionKey: s.def.key, BpmnProcessID: s.def.id, StartEventID: s.el.ID,
		MessageName: s.el.MessageName, ProcessInstanceKey: pi, CorrelationKey: corr, MessageKey: msgKey,
		Variables: docOrEmpty(vars), TenantID: DefaultTenant}
}

func activeKey(processID, corr string) string { return processID + "\x00" + corr }

// openStartSubscriptions replaces the message start event subscriptions of
// pd's process id with pd's own.
func (p *proc) openStartSubscriptions(pd *procDef) {
	var kept []*startSub
	for _, s := range p.st.startSubs {
		if s.def.id == pd.id {
			p.event(VTMessageStartSubscription, "DELETED", s.key, startSubValue(s, -1, -1, "", nil))
			continue
		}
		kept = append(kept, s)
	}
	for _, el := range pd.model.MessageStarts {
		s := &startSub{key: p.st.nextKey(), def: pd, el: el}
		kept = append(kept, s)
		p.event(VTMessageStartSubscription, "CREATED", s.key, startSubValue(s, -1, -1, "", nil))
	}
	p.st.startSubs = kept
}

// correlateStartEvents starts the instances a newly published message asks for.
func (p *proc) correlateStartEvents(m *bufferedMessage) {
	for _, s := range p.st.startSubs {
		if s.el.MessageName != m.v.Name || m.correlated[s.def.id] {
			continue
		}
		if _, busy := p.st.activeStarts[activeKey(s.def.id, m.v.CorrelationKey)]; busy && m.v.CorrelationKey != "" {
			continue // stays buffered: releaseStartKey correlates it later
		}
		p.startByMessage(s, m)
	}
}

// startByMessage creates an instance of s's process at its message start
// event; the message's variables reach the process when the start event
// completes, as a catch event's do.
func (p *proc) startByMessage(s *startSub, m *bufferedMessage) {
	def := s.def
	pi := p.st.nextKey()
	m.correlated[def.id] = true
	p.event(VTMessageStartSubscription, "CORRELATED", s.key, startSubValue(s, pi, m.key, m.v.CorrelationKey, m.v.Variables))
	// A start event has no element instance to be the event's scope yet: the process definition is.
	t := &processEvent{key: p.st.nextKey(), target: s.el.ID, scope: def.key, variables: docOrEmpty(m.v.Variables)}
	root := &elemInst{key: pi, def: def, typ: "PROCESS", evType: "UNSPECIFIED", flowScope: -1, pi: pi,
		starts: []*bpmn.Element{s.el}, startTrigger: t, startCorr: m.v.CorrelationKey}
	p.scope(pi, -1, pi, def)
	p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(root, t))
	if root.startCorr != "" {
		p.st.activeStarts[activeKey(def.id, root.startCorr)] = pi
	}
	p.st.pending[pi] = root
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", pi, p.st.value(root))
}

// releaseStartKey ends a finished instance's hold on its message's
// correlation key, and starts the next instance for the first buffered
// message with that key that has not started one of this process yet.
func (p *proc) releaseStartKey(root *elemInst) {
	if root.startCorr == "" {
		return
	}
	k := activeKey(root.def.id, root.startCorr)
	if p.st.activeStarts[k] != root.key {
		return
	}
	delete(p.st.activeStarts, k)
	for _, s := range p.st.startSubs {
		if s.def.id != root.def.id {
			continue
		}
		for _, m := range p.st.messages[msgKey(s.el.MessageName, root.startCorr)] {
			if !m.correlated[s.def.id] {
				p.startByMessage(s, m)
				return
			}
		}
	}
}
