package engine

import (
	"encoding/json"
	"sort"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// keyBase is partition 1's key prefix: keys are (partitionId << 51) + n.
const keyBase = int64(1) << 51

// state is everything the engine knows. Only the processing goroutine touches it.
type state struct {
	position int64
	keyCount int64

	procs           map[int64]*procDef            // by process definition key
	procVersion     map[string][]*procDef         // by bpmnProcessId, versions in order
	elems           map[int64]*elemInst           // active element instances, by key
	vars            map[int64]*scopeVars          // variables by scope key
	jobs            map[int64]*job                // by job key
	userTasks       map[int64]*userTask           // active Zeebe user tasks, by user task key
	activatable     map[string]*jobQueue          // by job type
	incidents       map[int64]*incident           // by incident key
	compSubs        map[int64][]*compSub          // by process instance key, in creation order
	timers          map[int64]*timer              // by timer key
	msgSubs         map[string][]*msgSub          // by message name + "\x00" + correlation key
	messages        map[string][]*bufferedMessage // by message name + "\x00" + correlation key
	msgIDs          map[string]bool               // name \x00 key \x00 id of buffered messages
	exprs           map[string]*feel.Expression   // parsed expressions, by source
	handlerSubs     map[int64]*compSub            // compensation handler instance key -> its subscription
	pending         map[int64]*elemInst           // instances whose ACTIVATE_ELEMENT is not processed yet
	startSubs       []*startSub                   // message start event subscriptions, in creation order
	signalSubs      []*signalSub                  // signal subscriptions (start events and catch events), in creation order
	drgs            map[string][]*drgDef          // decision requirements graphs by id, versions in order
	decisionVersion map[string][]*decisionDef     // decisions by id, versions in order
	decisions       map[int64]*decisionDef        // decisions by key
	forms           map[string][]*formDef         // forms by form id, versions in order
	// process id \x00 correlation key -> the active instance a message with that key started
	activeStarts map[string]int64
}

func newState() *state {
	return &state{procs: map[int64]*procDef{}, procVersion: map[string][]*procDef{}, elems: map[int64]*elemInst{},
		vars: map[int64]*scopeVars{}, jobs: map[int64]*job{}, userTasks: map[int64]*userTask{}, activatable: map[string]*jobQueue{},
		incidents: map[int64]*incident{}, compSubs: map[int64][]*compSub{}, timers: map[int64]*timer{},
		msgSubs: map[string][]*msgSub{}, messages: map[string][]*bufferedMessage{}, msgIDs: map[string]bool{},
		exprs: map[string]*feel.Expression{}, handlerSubs: map[int64]*compSub{}, pending: map[int64]*elemInst{},
		activeStarts: map[string]int64{}, drgs: map[string][]*drgDef{}, decisionVersion: map[string][]*decisionDef{},
		decisions: map[int64]*decisionDef{}, forms: map[string][]*formDef{}}
}

func (s *state) nextKey() int64 {
	s.keyCount++
	return keyBase + s.keyCount
}

type procDef struct {
	key          int64
	id           string
	version      int32
	resourceName string
	checksum     []byte
	resource     []byte
	model        *bpmn.ProcessDef
}

func (s *state) latest(id string) *procDef {
	vs := s.procVersion[id]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// elemInst is an active element instance (the process instance is one too).
type elemInst struct {
	key       int64
	def       *procDef
	el        *bpmn.Element // nil for the process itself
	typ       string        // bpmnElementType of the records
	evType    string        // bpmnEventType of the records
	flowScope int64         // -1 for the process
	pi        int64
	state     string // ELEMENT_ACTIVATING, ELEMENT_ACTIVATED, ELEMENT_COMPLETING, ELEMENT_TERMINATING

	children int // active child element instances
	tokens   int // follow-up ACTIVATE_ELEMENT commands in flight, and tokens waiting at joins
	// joins: parallel gateway id -> incoming flow id -> tokens waiting
	joins map[string]map[string]int

	jobKey      int64
	userTaskKey int64 // a Zeebe user task's key; 0 when none
	incidentKey int64
	failedCmd   string // the intent to redo when an element incident is resolved

	// completion variables set by the trigger (job completion, message), and its key
	trigger *processEvent
	// a script task's result variable, merged on completion like a trigger's variables
	result []kv
	// an interrupting event waiting for this element to be terminated
	interruptedBy *processEvent
	// a scope (process, subprocess) whose terminate end event completed: its
	// other elements are being terminated, nothing new starts in it, and it
	// completes when they are gone
	terminating bool
	// a scope taken over by an interrupting event subprocess
	interrupt *espInterrupt
	// a multi-instance body's state
	mi *miState
	// a compensation throw event waiting for its handlers
	pendingHandlers int
	// compensation handler: the subscription it serves
	compSub    *compSub
	timerKeys  []int64
	msgSubs    []*msgSub
	signalSubs []*signalSub
	// inner: an instance inside a multi-instance body
	inner bool
	// a called instance and everything in it: the call activity's instance
	// and process instance keys (0: not called)
	parentEI, parentPI int64
	// a call activity: the instance it created, while that one is active
	childPI int64
	// for the process: the elements to start at (none: the none start event)
	starts []*bpmn.Element
	// for a process started by a message: the start event's trigger, and
	// the message's correlation key ("" = none)
	startTrigger *processEvent
	startCorr    string
	// for the process: the creation requested a result
	withResult     bool
	fetchVariables []string
}

type processEvent struct {
	key       int64
	target    string // element id that the event activates / completes
	scope     int64
	variables json.RawMessage
}

type miState struct {
	items     []json.RawMessage
	next      int // index of the next item to start (sequential)
	completed int
	active    int
}

func (s *state) value(ei *elemInst) ProcessInstanceValue {
	v := ProcessInstanceValue{BpmnProcessID: ei.def.id, Version: ei.def.version, ProcessDefinitionKey: ei.def.key,
		ProcessInstanceKey: ei.pi, ElementID: ei.def.id, FlowScopeKey: ei.flowScope, BpmnElementType: ei.typ,
		ParentProcessInstanceKey: -1, ParentElementInstanceKey: -1, BpmnEventType: ei.evType, TenantID: DefaultTenant}
	if ei.el != nil {
		v.ElementID = ei.el.ID
	}
	if ei.parentEI != 0 {
		v.ParentProcessInstanceKey, v.ParentElementInstanceKey = ei.parentPI, ei.parentEI
	}
	return v
}

// scopeVars holds one scope's variables in creation order.
type scopeVars struct {
	parent int64 // the scope above, -1 at the root
	pi     int64
	def    *procDef
	names  []string
	vals   map[string]json.RawMessage
	keys   map[string]int64
}

const (
	jobActivatable = "ACTIVATABLE"
	jobActivated   = "ACTIVATED"
	jobFailed      = "FAILED"
	jobErrorThrown = "ERROR_THROWN"
)

type job struct {
	key         int64
	v           JobValue
	state       string
	incidentKey int64
}

type incident struct {
	key int64
	v   IncidentValue
}

type compSub struct {
	key int64
	v   CompensationSubscriptionValue
	// handler: the element the subscription's boundary event leads to
	boundary *bpmn.Element
	state    string // CREATED, TRIGGERED
}

type timer struct {
	key int64
	v   TimerValue
	// a cycle's interval in ms, 0 for a single timer
	interval int64
	// a timer start event's process version and event; nil for an element's timer
	startDef *procDef
	startEl  *bpmn.Element
}

type msgSub struct {
	key           int64
	elemKey       int64
	pi            int64
	processID     string
	name, corrKey string
	elementID     string
	interrupting  bool // false for a non-interrupting boundary event's
}

// signalSub is a signal subscription: of a deployed process's signal start
// event (def and el set, elemKey -1), or of an element instance waiting at
// a catch event, boundary event or event-based gateway.
type signalSub struct {
	key     int64
	def     *procDef
	el      *bpmn.Element // the catch event
	elemKey int64
	name    string
}

// startSub is the subscription of a deployed process's message start event.
type startSub struct {
	key int64
	def *procDef
	el  *bpmn.Element
}

type bufferedMessage struct {
	key int64
	v   MessageValue
	// processes this message already correlated to (at most once per process id)
	correlated map[string]bool
}

func msgKey(name, corr string) string { return name + "\x00" + corr }

// sortedKeys returns the keys of m in ascending order, so that processing never
// depends on Go's map order.
func sortedKeys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// jobQueue holds the activatable jobs of one type in key order, the order
// Zeebe activates them in. Jobs mostly arrive in key order, so adding is an
// append; a job coming back (timeout, retry) is inserted in place.
type jobQueue struct{ keys []int64 }

func (q *jobQueue) len() int {
	if q == nil {
		return 0
	}
	return len(q.keys)
}

func (q *jobQueue) add(k int64) {
	n := len(q.keys)
	if n == 0 || q.keys[n-1] < k {
		q.keys = append(q.keys, k)
		return
	}
	i := sort.Search(n, func(i int) bool { return q.keys[i] >= k })
	if i < n && q.keys[i] == k {
		return
	}
	q.keys = append(q.keys, 0)
	copy(q.keys[i+1:], q.keys[i:])
	q.keys[i] = k
}

func (q *jobQueue) remove(k int64) {
	if q == nil {
		return
	}
	i := sort.Search(len(q.keys), func(i int) bool { return q.keys[i] >= k })
	if i < len(q.keys) && q.keys[i] == k {
		q.keys = append(q.keys[:i], q.keys[i+1:]...)
	}
}
