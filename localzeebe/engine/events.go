package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

func sortedStrings[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ---------------------------------------------------------------- timers

// createTimer schedules the timer of a catch event, or of a boundary event b
// attached to ei.
func (p *proc) createTimer(ei *elemInst, b *bpmn.Element) error {
	if b.TimerCycle != "" {
		return p.createCycleTimer(ei, b)
	}
	v, err := p.evaluateAs(b.TimerDuration, ei.key, nil, "DURATION", "STRING")
	if err != nil {
		return err
	}
	var d time.Duration
	switch x := v.(type) {
	case string:
		if d, err = feel.ParseDuration(x); err != nil {
			return &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected result of the expression '%s' to be a valid duration, but was '%s'", b.TimerDuration, x)}
		}
	default:
		raw, _ := feel.ToJSON(x)
		var s string
		_ = json.Unmarshal(raw, &s)
		if d, err = feel.ParseDuration(s); err != nil {
			return &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected result of the expression '%s' to be a valid duration, but was '%s'", b.TimerDuration, raw)}
		}
	}
	p.addTimer(ei, b.ID, p.now+d.Milliseconds(), 1, 0)
	return nil
}

// createCycleTimer schedules the first timer of a cycle "R<n>/<duration>":
// due after one interval, with n repetitions (-1: for ever).
func (p *proc) createCycleTimer(ei *elemInst, b *bpmn.Element) error {
	v, err := p.evaluateAs(b.TimerCycle, ei.key, nil, "STRING")
	if err != nil {
		return err
	}
	bad := &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected result of the expression '%s' to be a repeating interval such as 'R3/PT10S', but was '%s'", b.TimerCycle, v)}
	reps, dur, ok := bpmn.ParseCycle(v.(string))
	if !ok {
		return bad
	}
	d, err := feel.ParseDuration(dur)
	if err != nil || d <= 0 {
		// A zero interval repeating for ever would never let the engine rest.
		return bad
	}
	p.addTimer(ei, b.ID, p.now+d.Milliseconds(), reps, d.Milliseconds())
	return nil
}

func (p *proc) addTimer(ei *elemInst, target string, due int64, reps int, interval int64) {
	t := &timer{key: p.st.nextKey(), interval: interval, v: TimerValue{ElementInstanceKey: ei.key, ProcessInstanceKey: ei.pi,
		DueDate: due, TargetElementID: target, Repetitions: reps, ProcessDefinitionKey: ei.def.key, TenantID: DefaultTenant}}
	p.st.timers[t.key] = t
	ei.timerKeys = append(ei.timerKeys, t.key)
	p.event(VTTimer, "CREATED", t.key, t.v)
}

func (p *proc) triggerTimer(rec *Record) error {
	t := p.st.timers[rec.Key]
	if t == nil {
		return reject("TRIGGER", "NOT_FOUND", "Expected to trigger timer with key '%d', but no such timer was found", rec.Key)
	}
	if t.startDef != nil {
		p.triggerStartTimer(t)
		return nil
	}
	ei := p.st.elems[t.v.ElementInstanceKey]
	if ei == nil || ei.state != "ELEMENT_ACTIVATED" {
		return reject("TRIGGER", "INVALID_STATE", "Expected to trigger timer with key '%d', but its element is not active", rec.Key)
	}
	delete(p.st.timers, t.key)
	p.event(VTTimer, "TRIGGERED", t.key, t.v)
	if esp := espStart(ei, t.v.TargetElementID); esp != nil {
		for i, k := range ei.timerKeys {
			if k == t.key {
				ei.timerKeys = append(ei.timerKeys[:i:i], ei.timerKeys[i+1:]...)
				break
			}
		}
		p.triggerEventSubprocess(ei, esp, nil)
		if !esp.EventStart.CancelActivity && t.interval > 0 && t.v.Repetitions != 1 {
			reps := t.v.Repetitions
			if reps > 0 {
				reps--
			}
			p.addTimer(ei, t.v.TargetElementID, t.v.DueDate+t.interval, reps, t.interval)
		}
		return nil
	}
	if ei.el.ID == t.v.TargetElementID { // an intermediate timer catch event
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
		return nil
	}
	if ei.el.Type == bpmn.EventBasedGateway {
		// The gateway completes and passes the trigger to the timer's catch event.
		ev := &processEvent{key: p.st.nextKey(), target: t.v.TargetElementID, scope: ei.key, variables: json.RawMessage(`{}`)}
		p.event(VTProcessEvent, "TRIGGERING", ev.key, p.processEventValue(ei, ev))
		ei.trigger = ev
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
		return nil
	}
	ev := &processEvent{key: p.st.nextKey(), target: t.v.TargetElementID, scope: ei.key, variables: json.RawMessage(`{}`)}
	p.event(VTProcessEvent, "TRIGGERING", ev.key, p.processEventValue(ei, ev))
	if b := boundaryOf(ei, t.v.TargetElementID); b != nil && !b.CancelActivity {
		// Non-interrupting: the boundary event starts and the activity goes
		// on; a cycle with repetitions left schedules its next timer one
		// interval after this one was due.
		for i, k := range ei.timerKeys {
			if k == t.key {
				ei.timerKeys = append(ei.timerKeys[:i:i], ei.timerKeys[i+1:]...)
				break
			}
		}
		p.triggerNonInterrupting(ei, ev)
		if t.interval > 0 && t.v.Repetitions != 1 {
			reps := t.v.Repetitions
			if reps > 0 {
				reps--
			}
			p.addTimer(ei, t.v.TargetElementID, t.v.DueDate+t.interval, reps, t.interval)
		}
		return nil
	}
	// An interrupting boundary timer: terminate the activity, then activate the boundary.
	ei.interruptedBy = ev
	p.command(VTProcessInstance, "TERMINATE_ELEMENT", ei.key, p.st.value(ei))
	return nil
}

// Timer start events (docs: timer-events.md "Timer start events"):
// deploying a process schedules a timer for each of its timer start events
// and cancels those of the previous version; each trigger starts an
// instance of that version at the event, and a cycle schedules its next.

// scheduleStartTimers replaces the timer start event timers of pd's process id with pd's own.
func (p *proc) scheduleStartTimers(pd *procDef) {
	for _, k := range sortedKeys(p.st.timers) {
		if t := p.st.timers[k]; t.startDef != nil && t.startDef.id == pd.id {
			delete(p.st.timers, k)
			p.event(VTTimer, "CANCELED", k, t.v)
		}
	}
	for _, el := range pd.model.TimerStarts {
		due, reps, interval := p.now, 1, int64(0)
		switch {
		case el.TimerDate != "":
			if d, ok := bpmn.ParseDateTime(el.TimerDate); ok {
				due = d.UnixMilli()
			}
		case el.TimerCycle != "":
			var dur string
			reps, dur, _ = bpmn.ParseCycle(el.TimerCycle)
			d, _ := feel.ParseDuration(dur)
			interval = d.Milliseconds()
			due += interval
		default:
			d, _ := feel.ParseDuration(el.TimerDuration)
			due += d.Milliseconds()
		}
		p.addStartTimer(pd, el, due, reps, interval)
	}
}

func (p *proc) addStartTimer(pd *procDef, el *bpmn.Element, due int64, reps int, interval int64) {
	t := &timer{key: p.st.nextKey(), interval: interval, startDef: pd, startEl: el, v: TimerValue{ElementInstanceKey: -1,
		ProcessInstanceKey: -1, DueDate: due, TargetElementID: el.ID, Repetitions: reps, ProcessDefinitionKey: pd.key, TenantID: DefaultTenant}}
	p.st.timers[t.key] = t
	p.event(VTTimer, "CREATED", t.key, t.v)
}

// triggerStartTimer starts an instance at the timer's start event, which
// completes with the trigger, as a message start event does.
func (p *proc) triggerStartTimer(t *timer) {
	delete(p.st.timers, t.key)
	p.event(VTTimer, "TRIGGERED", t.key, t.v)
	def := t.startDef
	pi := p.st.nextKey()
	ev := &processEvent{key: p.st.nextKey(), target: t.startEl.ID, scope: def.key, variables: json.RawMessage(`{}`)}
	root := &elemInst{key: pi, def: def, typ: "PROCESS", evType: "UNSPECIFIED", flowScope: -1, pi: pi,
		starts: []*bpmn.Element{t.startEl}, startTrigger: ev}
	p.scope(pi, -1, pi, def)
	p.event(VTProcessEvent, "TRIGGERING", ev.key, p.processEventValue(root, ev))
	p.st.pending[pi] = root
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", pi, p.st.value(root))
	if t.interval > 0 && t.v.Repetitions != 1 {
		reps := t.v.Repetitions
		if reps > 0 {
			reps--
		}
		p.addStartTimer(def, t.startEl, t.v.DueDate+t.interval, reps, t.interval)
	}
}

// closeSubscriptions cancels the timers and message subscriptions of an element instance.
func (p *proc) closeSubscriptions(ei *elemInst) {
	for _, k := range ei.timerKeys {
		if t := p.st.timers[k]; t != nil {
			delete(p.st.timers, k)
			p.event(VTTimer, "CANCELED", k, t.v)
		}
	}
	ei.timerKeys = nil
	for _, s := range ei.msgSubs {
		p.removeMsgSub(s)
		p.event(VTProcessMessageSubscr, "DELETED", s.key, p.msgSubValue(s, -1, nil))
	}
	ei.msgSubs = nil
	p.closeSignalSubscriptions(ei)
}

// ---------------------------------------------------------------- messages

// PublishRequest publishes a message.
type PublishRequest struct {
	Name, CorrelationKey, MessageID string
	TimeToLive                      int64 // ms
	Variables                       json.RawMessage
}

// PublishMessage publishes a message and returns its key.
func (e *Engine) PublishMessage(ctx context.Context, r PublishRequest) (int64, error) {
	out, err := e.submit(ctx, &Record{ValueType: VTMessage, Intent: "PUBLISH", Key: -1, Value: &MessageValue{
		Name: r.Name, CorrelationKey: r.CorrelationKey, TimeToLive: r.TimeToLive, MessageID: r.MessageID,
		Variables: docOrEmpty(r.Variables), Deadline: -1, TenantID: DefaultTenant}})
	if err != nil {
		return 0, err
	}
	return out.(int64), nil
}

func (p *proc) msgSubValue(s *msgSub, msgKey int64, vars json.RawMessage) MessageSubscriptionValue {
	return MessageSubscriptionValue{ProcessInstanceKey: s.pi, ElementInstanceKey: s.elemKey, BpmnProcessID: s.processID,
		MessageName: s.name, CorrelationKey: s.corrKey, MessageKey: msgKey, ElementID: s.elementID, Interrupting: s.interrupting,
		Variables: docOrEmpty(vars), TenantID: DefaultTenant}
}

func (p *proc) removeMsgSub(s *msgSub) {
	k := msgKey(s.name, s.corrKey)
	subs := p.st.msgSubs[k]
	for i, x := range subs {
		if x == s {
			p.st.msgSubs[k] = append(subs[:i:i], subs[i+1:]...)
			break
		}
	}
	if len(p.st.msgSubs[k]) == 0 {
		delete(p.st.msgSubs, k)
	}
}

// openMessageSubscription subscribes ei to the message of el: ei's own, or
// that of an event after ei, an event-based gateway.
func (p *proc) openMessageSubscription(ei *elemInst, el *bpmn.Element) error {
	nv, err := p.evaluateAs(el.MessageName, ei.key, nil, "STRING")
	if err != nil {
		return err
	}
	cv, warnings, err := p.evaluate(el.CorrelationKey, ei.key, nil)
	if err != nil {
		return err
	}
	var corr string
	switch feel.TypeName(cv) {
	case "STRING":
		corr = cv.(string)
	case "NUMBER":
		raw, _ := feel.ToJSON(cv)
		corr = string(raw)
	default:
		msg := fmt.Sprintf("Failed to extract the correlation key for '%s': The value must be either a string or a number, but was '%s'.",
			strings.TrimPrefix(strings.TrimSpace(el.CorrelationKey), "="), feel.TypeName(cv))
		if len(warnings) > 0 {
			var ws []string
			for _, w := range warnings {
				ws = append(ws, w.String())
			}
			msg += " The evaluation reported the following warnings:\n" + strings.Join(ws, "\n")
		}
		return &evalError{"EXTRACT_VALUE_ERROR", msg}
	}
	s := &msgSub{key: p.st.nextKey(), elemKey: ei.key, pi: ei.pi, processID: ei.def.id, name: nv.(string), corrKey: corr, elementID: el.ID,
		interrupting: el.Type != bpmn.BoundaryEvent && !el.InEventSubprocess() || el.CancelActivity}
	k := msgKey(s.name, s.corrKey)
	p.st.msgSubs[k] = append(p.st.msgSubs[k], s)
	ei.msgSubs = append(ei.msgSubs, s)
	p.event(VTProcessMessageSubscr, "CREATED", s.key, p.msgSubValue(s, -1, nil))
	return nil
}

// correlateBuffered gives a newly opened subscription the first buffered message that fits.
func (p *proc) correlateBuffered(ei *elemInst) {
	for _, s := range ei.msgSubs {
		for _, m := range p.st.messages[msgKey(s.name, s.corrKey)] {
			if m.correlated[s.processID] {
				continue
			}
			p.correlate(s, m.key, &m.v, m)
			return
		}
	}
}

func (p *proc) correlate(s *msgSub, key int64, v *MessageValue, m *bufferedMessage) {
	ei := p.st.elems[s.elemKey]
	if ei == nil || ei.trigger != nil {
		return // an event-based gateway takes the first of its events only
	}
	b := boundaryOf(ei, s.elementID)
	esp := espStart(ei, s.elementID)
	if b == nil && esp != nil {
		b = esp.EventStart // an event subprocess start is triggered like a boundary event
	}
	if b != nil && (ei.state != "ELEMENT_ACTIVATED" || ei.interruptedBy != nil || ei.interrupt != nil) {
		return // the activity or scope is ending already
	}
	if m != nil {
		if m.correlated == nil {
			m.correlated = map[string]bool{}
		}
		m.correlated[s.processID] = true
	}
	if b != nil && !b.CancelActivity {
		// A non-interrupting boundary keeps its subscription and starts a
		// boundary event instance per message, the activity going on.
		p.event(VTProcessMessageSubscr, "CORRELATED", s.key, p.msgSubValue(s, key, v.Variables))
		if esp != nil {
			p.triggerEventSubprocess(ei, esp, v.Variables)
			return
		}
		t := &processEvent{key: p.st.nextKey(), target: s.elementID, scope: ei.key, variables: docOrEmpty(v.Variables)}
		p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(ei, t))
		p.triggerNonInterrupting(ei, t)
		return
	}
	p.removeMsgSub(s)
	for i, x := range ei.msgSubs {
		if x == s {
			ei.msgSubs = append(ei.msgSubs[:i:i], ei.msgSubs[i+1:]...)
			break
		}
	}
	p.event(VTProcessMessageSubscr, "CORRELATED", s.key, p.msgSubValue(s, key, v.Variables))
	if esp != nil {
		p.triggerEventSubprocess(ei, esp, v.Variables)
		return
	}
	t := &processEvent{key: p.st.nextKey(), target: s.elementID, scope: ei.key, variables: docOrEmpty(v.Variables)}
	p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(ei, t))
	if b != nil {
		// An interrupting boundary: terminate the activity, then activate the boundary.
		ei.interruptedBy = t
		p.command(VTProcessInstance, "TERMINATE_ELEMENT", ei.key, p.st.value(ei))
		return
	}
	ei.trigger = t
	p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
}

// boundaryOf returns the boundary event id of ei's activity, nil if id is not one.
func boundaryOf(ei *elemInst, id string) *bpmn.Element {
	if ei.el == nil {
		return nil
	}
	for _, b := range ei.el.Boundaries {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// triggerNonInterrupting activates a non-interrupting boundary event of ei
// in ei's flow scope; ei stays active.
func (p *proc) triggerNonInterrupting(ei *elemInst, t *processEvent) {
	p.event(VTProcessEvent, "TRIGGERED", t.key, p.processEventValue(ei, t))
	p.activateBoundary(p.st.elems[ei.flowScope], ei.el, t)
}

func (p *proc) messageCommand(rec *Record) (any, error) {
	v := rec.Value.(*MessageValue)
	if rec.Intent == "EXPIRE" {
		k := msgKey(v.Name, v.CorrelationKey)
		for i, m := range p.st.messages[k] {
			if m.key == rec.Key {
				p.st.messages[k] = append(p.st.messages[k][:i:i], p.st.messages[k][i+1:]...)
				delete(p.st.msgIDs, k+"\x00"+m.v.MessageID)
				p.event(VTMessage, "EXPIRED", m.key, m.v)
				break
			}
		}
		if len(p.st.messages[k]) == 0 {
			delete(p.st.messages, k)
		}
		return nil, nil
	}
	k := msgKey(v.Name, v.CorrelationKey)
	if v.MessageID != "" && p.st.msgIDs[k+"\x00"+v.MessageID] {
		return nil, reject("PUBLISH", "ALREADY_EXISTS", "Expected to publish a new message with id '%s', but a message with that id was already published", v.MessageID)
	}
	key := p.st.nextKey()
	pub := *v
	pub.Deadline = p.now + v.TimeToLive
	p.event(VTMessage, "PUBLISHED", key, pub)
	m := &bufferedMessage{key: key, v: pub, correlated: map[string]bool{}}
	// At most one subscription per process id, the oldest first.
	subs := append([]*msgSub(nil), p.st.msgSubs[k]...)
	for _, s := range subs {
		if m.correlated[s.processID] {
			continue
		}
		p.correlate(s, key, &pub, m)
	}
	p.correlateStartEvents(m)
	if v.TimeToLive <= 0 {
		p.event(VTMessage, "EXPIRED", key, pub)
		return key, nil
	}
	p.st.messages[k] = append(p.st.messages[k], m)
	if v.MessageID != "" {
		p.st.msgIDs[k+"\x00"+v.MessageID] = true
	}
	return key, nil
}

// ---------------------------------------------------------------- compensation

// createCompensationSubscription records a completed activity that has a
// compensation boundary event (Zeebe 8.5: one subscription per completion).
func (p *proc) createCompensationSubscription(ei *elemInst) {
	if ei.el == nil || ei.inner || ei.el.IsForCompensation {
		return
	}
	var b *bpmn.Element
	for _, x := range ei.el.Boundaries {
		if x.EventType == "COMPENSATION" {
			b = x
		}
	}
	if b == nil || b.CompensationHandler == nil {
		return
	}
	cs := &compSub{key: p.st.nextKey(), boundary: b, state: "CREATED", v: CompensationSubscriptionValue{TenantID: DefaultTenant,
		ProcessInstanceKey: ei.pi, ProcessDefinitionKey: ei.def.key, CompensableActivityID: ei.el.ID, ThrowEventID: "",
		ThrowEventInstanceKey: -1, CompensationHandlerID: b.CompensationHandler.ID, CompensationHandlerInstanceKey: -1,
		CompensableActivityScopeKey: ei.flowScope, CompensableActivityInstanceKey: ei.key, Variables: json.RawMessage(`{}`)}}
	p.st.compSubs[ei.pi] = append(p.st.compSubs[ei.pi], cs)
	p.event(VTCompensationSubscription, "CREATED", cs.key, cs.v)
}

// triggerCompensation starts the handlers of the completed activities in the
// throw event's scope, in the order they completed; it returns how many.
func (p *proc) triggerCompensation(throw *elemInst) int {
	scope := p.st.elems[throw.flowScope]
	n := 0
	for _, cs := range p.st.compSubs[throw.pi] {
		if cs.state != "CREATED" || cs.v.CompensableActivityScopeKey != throw.flowScope {
			continue
		}
		if ref := throw.el.ActivityRef; ref != "" && ref != cs.v.CompensableActivityID {
			continue
		}
		be := p.newChild(scope, cs.boundary, p.st.nextKey())
		p.event(VTProcessInstance, "ELEMENT_ACTIVATING", be.key, p.st.value(be))
		p.event(VTProcessInstance, "ELEMENT_ACTIVATED", be.key, p.st.value(be))
		p.event(VTProcessInstance, "ELEMENT_COMPLETING", be.key, p.st.value(be))
		p.event(VTProcessInstance, "ELEMENT_COMPLETED", be.key, p.st.value(be))
		h := p.newChild(scope, cs.boundary.CompensationHandler, p.st.nextKey())
		h.compSub = cs
		p.queueActivation(scope, h)
		cs.state = "TRIGGERED"
		cs.v.ThrowEventID, cs.v.ThrowEventInstanceKey, cs.v.CompensationHandlerInstanceKey = throw.el.ID, throw.key, h.key
		p.event(VTCompensationSubscription, "TRIGGERED", cs.key, cs.v)
		n++
	}
	throw.pendingHandlers = n
	return n
}

func (p *proc) compensationHandlerDone(h *elemInst) {
	cs := h.compSub
	p.event(VTCompensationSubscription, "COMPLETED", cs.key, cs.v)
	subs := p.st.compSubs[h.pi]
	for i, x := range subs {
		if x == cs {
			p.st.compSubs[h.pi] = append(subs[:i:i], subs[i+1:]...)
			break
		}
	}
	throw := p.st.elems[cs.v.ThrowEventInstanceKey]
	if throw == nil {
		return
	}
	throw.pendingHandlers--
	if throw.pendingHandlers == 0 && throw.state == "ELEMENT_ACTIVATED" {
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", throw.key, p.st.value(throw))
	}
}

// ---------------------------------------------------------------- multi-instance

func (p *proc) activateMultiInstance(body *elemInst) {
	mi := body.el.MultiInstance
	v, err := p.evaluateAs(mi.InputCollection, body.key, nil, "ARRAY")
	if err != nil {
		p.elementIncident(body, err, "ACTIVATE_ELEMENT")
		return
	}
	items, ok := feelList(v)
	if !ok {
		p.elementIncident(body, &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected result of the expression '%s' to be 'ARRAY', but was '%s'.", mi.InputCollection, feel.TypeName(v))}, "ACTIVATE_ELEMENT")
		return
	}
	body.mi = &miState{items: items}
	if mi.OutputCollection != "" {
		nulls := make([]string, len(items))
		for i := range nulls {
			nulls[i] = "null"
		}
		p.setLocal(body.key, p.scopeOf(body), mi.OutputCollection, json.RawMessage("["+strings.Join(nulls, ",")+"]"))
	}
	if !p.subscribeBoundaries(body) {
		return
	}
	p.transition(body, "ELEMENT_ACTIVATED")
	p.boundaryBuffered(body)
	if len(items) == 0 {
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", body.key, p.st.value(body))
		return
	}
	if mi.Sequential {
		p.startInner(body)
		return
	}
	for range items {
		p.startInner(body)
	}
}

// startInner activates the next inner instance with its loopCounter and input element.
func (p *proc) startInner(body *elemInst) {
	i := body.mi.next
	body.mi.next++
	body.mi.active++
	in := p.newChild(body, body.el, p.st.nextKey())
	in.inner = true
	in.typ = string(body.el.Type)
	sv := p.scope(in.key, body.key, body.pi, body.def)
	if name := body.el.MultiInstance.InputElement; name != "" {
		p.setLocal(in.key, sv, name, body.mi.items[i])
	}
	p.setLocal(in.key, sv, "loopCounter", json.RawMessage(fmt.Sprint(i+1)))
	p.queueActivation(body, in)
}

// collectOutput writes an inner instance's output element into the body's
// output collection.
func (p *proc) collectOutput(in *elemInst) bool {
	mi := in.el.MultiInstance
	if mi.OutputCollection == "" || mi.OutputElement == "" {
		return true
	}
	v, _, err := p.evaluate(mi.OutputElement, in.key, nil)
	if err != nil {
		p.elementIncident(in, err, "COMPLETE_ELEMENT")
		return false
	}
	raw, err := feel.ToJSON(v)
	if err != nil {
		raw = json.RawMessage("null")
	}
	body := p.st.elems[in.flowScope]
	lc, _ := p.lookupRaw(in.key, "loopCounter")
	var idx int
	_ = json.Unmarshal(lc, &idx)
	cur, _ := p.lookupRaw(body.key, mi.OutputCollection)
	var list []json.RawMessage
	_ = json.Unmarshal(cur, &list)
	if idx >= 1 && idx <= len(list) {
		list[idx-1] = raw
	}
	p.setLocal(body.key, p.scopeOf(body), mi.OutputCollection, marshalList(list))
	return true
}

func marshalList(l []json.RawMessage) json.RawMessage {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		if x == nil {
			x = json.RawMessage("null")
		}
		b.Write(x)
	}
	b.WriteByte(']')
	return json.RawMessage(b.String())
}

// innerInstanceDone continues a multi-instance body after an inner instance
// completed (or was terminated by the completion condition).
func (p *proc) innerInstanceDone(body *elemInst, in *elemInst, terminated bool) {
	m := body.mi
	m.active--
	if !terminated {
		m.completed++
		if cond := body.el.MultiInstance.CompletionCondition; cond != "" && body.state == "ELEMENT_ACTIVATED" {
			extra := map[string]any{}
			for name, n := range map[string]int{"numberOfInstances": len(m.items), "numberOfActiveInstances": m.active,
				"numberOfCompletedInstances": m.completed, "numberOfTerminatedInstances": 0} {
				extra[name], _ = feel.FromJSON([]byte(fmt.Sprint(n)))
			}
			v, err := p.evaluateAs(cond, body.key, extra, "BOOLEAN")
			if err != nil {
				p.elementIncident(body, err, "COMPLETE_ELEMENT")
				return
			}
			if v == true {
				m.next = len(m.items)
				body.state = "MI_COMPLETING"
				if m.active == 0 {
					body.state = "ELEMENT_ACTIVATED"
					p.command(VTProcessInstance, "COMPLETE_ELEMENT", body.key, p.st.value(body))
					return
				}
				for _, k := range sortedKeys(p.st.elems) {
					c := p.st.elems[k]
					if c.flowScope == body.key && c.state != "ELEMENT_TERMINATING" {
						p.command(VTProcessInstance, "TERMINATE_ELEMENT", c.key, p.st.value(c))
					}
				}
				return
			}
		}
	}
	if body.state == "MI_COMPLETING" {
		if m.active == 0 {
			body.state = "ELEMENT_ACTIVATED"
			p.command(VTProcessInstance, "COMPLETE_ELEMENT", body.key, p.st.value(body))
		}
		return
	}
	if m.next < len(m.items) && body.el.MultiInstance.Sequential {
		p.startInner(body)
		return
	}
	if m.active == 0 && m.next >= len(m.items) {
		p.command(VTProcessInstance, "COMPLETE_ELEMENT", body.key, p.st.value(body))
	}
}

// ---------------------------------------------------------------- incidents and variables

// ResolveIncident resolves an incident.
func (e *Engine) ResolveIncident(ctx context.Context, key int64) error {
	_, err := e.submit(ctx, &Record{ValueType: VTIncident, Intent: "RESOLVE", Key: key, Value: &IncidentValue{
		ErrorType: "UNKNOWN", ProcessDefinitionKey: -1, ProcessInstanceKey: -1, ElementInstanceKey: -1, JobKey: -1,
		VariableScopeKey: -1, TenantID: DefaultTenant}})
	return err
}

func (p *proc) resolveIncident(rec *Record) error {
	inc := p.st.incidents[rec.Key]
	if inc == nil {
		return reject("RESOLVE", "NOT_FOUND", "Expected to resolve incident with key '%d', but no such incident was found", rec.Key)
	}
	if inc.v.JobKey > 0 {
		j := p.st.jobs[inc.v.JobKey]
		if j != nil && j.state == jobFailed && j.v.Retries <= 0 {
			// Zeebe 8.5 answers NOT_FOUND here, though it logs INVALID_STATE.
			return reject("RESOLVE", "NOT_FOUND", "Expected to resolve incident with key '%d', but job with key '%d' has no retries left. Please update the job retries and retry resolving the incident", rec.Key, j.key)
		}
		delete(p.st.incidents, inc.key)
		p.event(VTIncident, "RESOLVED", inc.key, inc.v)
		if j != nil {
			j.incidentKey = 0
			if j.state == jobFailed || j.state == jobErrorThrown {
				j.v.RecurringTime = -1
				p.makeActivatable(j)
			}
		}
		return nil
	}
	delete(p.st.incidents, inc.key)
	p.event(VTIncident, "RESOLVED", inc.key, inc.v)
	ei := p.st.elems[inc.v.ElementInstanceKey]
	if ei == nil {
		return nil
	}
	ei.incidentKey = 0
	switch ei.failedCmd {
	case "ACTIVATE_ELEMENT":
		if ei.state == "ELEMENT_ACTIVATING" {
			p.onActivating(ei)
		} else if ei.el != nil && ei.el.Type == bpmn.EndEvent && ei.el.EventType == "ERROR" {
			p.throwError(ei, ei.el.ErrorCode, "", nil, nil)
		}
	case "COMPLETE_ELEMENT":
		switch {
		case ei.state == "ELEMENT_COMPLETING":
			p.onCompleting(ei)
		case ei.typ == string(bpmn.MultiInstanceBody):
			// A completion condition failed: evaluate it again with the next inner completion.
			p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
		}
	}
	return nil
}

// SetVariables merges a document into an element instance's scope.
func (e *Engine) SetVariables(ctx context.Context, scopeKey int64, vars json.RawMessage, local bool) (int64, error) {
	sem := "PROPAGATE"
	if local {
		sem = "LOCAL"
	}
	out, err := e.submit(ctx, &Record{ValueType: VTVariableDocument, Intent: "UPDATE", Key: -1, Value: &VariableDocumentValue{
		ScopeKey: scopeKey, UpdateSemantics: sem, Variables: docOrEmpty(vars), TenantID: DefaultTenant}})
	if err != nil {
		return 0, err
	}
	return out.(int64), nil
}

func (p *proc) setVariables(rec *Record) (any, error) {
	v := rec.Value.(*VariableDocumentValue)
	ei := p.st.elems[v.ScopeKey]
	if ei == nil || ei.state == "ELEMENT_TERMINATING" || ei.state == "TERMINATE_REQUESTED" {
		return nil, reject("UPDATE", "NOT_FOUND", "Expected to update variables for element with key '%d', but no such element was found", v.ScopeKey)
	}
	vars, err := ParseDocument(v.Variables)
	if err != nil {
		return nil, reject("UPDATE", "INVALID_ARGUMENT", "%s", err.Error())
	}
	if v.UpdateSemantics == "LOCAL" {
		sv := p.scopeOf(ei)
		for _, x := range vars {
			p.setLocal(ei.key, sv, x.name, x.raw)
		}
	} else {
		p.scopeOf(ei)
		p.propagate(ei.key, vars)
	}
	key := p.st.nextKey()
	p.event(VTVariableDocument, "UPDATED", key, *v)
	return key, nil
}
