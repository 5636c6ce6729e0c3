package feel

import (
	"fmt"
	"strings"
	"time"
)

// Lookup returns the value of a top-level variable name, and whether it exists.
// Values must be FEEL values, nested ones included (FromJSON and Normalize
// produce them). As a convenience a top-level plain Go scalar (int, float64,
// …) is converted on the fly; nested ones are not.
type Lookup func(name string) (any, bool)

// Result is the outcome of an evaluation: a value (nil for null) and the
// warnings collected on the way, which Zeebe appends to incident messages.
type Result struct {
	Value    any
	Warnings []Warning
}

// Warning describes something that went wrong during evaluation (FEEL 1.17
// turns failures into null plus a warning instead of an error).
type Warning struct{ Type, Message string }

// String renders the warning as Zeebe prints it: "[TYPE] message".
func (w Warning) String() string { return "[" + w.Type + "] " + w.Message }

// Warning types.
const (
	WarnNoVariable      = "NO_VARIABLE_FOUND"
	WarnNoContextEntry  = "NO_CONTEXT_ENTRY_FOUND"
	WarnNoFunction      = "NO_FUNCTION_FOUND"
	WarnFunctionFailure = "FUNCTION_INVOCATION_FAILURE"
	WarnNotComparable   = "NOT_COMPARABLE"
	WarnInvalidType     = "INVALID_TYPE"
	WarnFailure         = "FAILED_TO_EVALUATE_EXPRESSION"
)

// Limits that keep a hostile or runaway expression from hanging the engine
// or exhausting memory: evaluation is abandoned (null plus a warning) when
// they are exceeded.
const (
	maxSteps     = 5_000_000 // evaluated nodes plus work done by built-ins (about 0.5 s)
	maxCallDepth = 64        // nested calls of user-defined functions
	maxStringLen = 16 << 20  // bytes in a string built by the expression
)

// abort is panicked (and recovered in EvalAt) when a limit is exceeded.
type abort struct{ msg string }

// Eval evaluates the expression. It never panics and never returns a Go
// error: anything that goes wrong yields nil (null) plus a warning.
// now() and today() use the current time in UTC.
func (e *Expression) Eval(vars Lookup) Result { return e.EvalAt(vars, time.Time{}) }

// EvalAt is Eval with a fixed clock for now() and today(); a zero time
// means the current time.
func (e *Expression) EvalAt(vars Lookup, now time.Time) (res Result) {
	if e == nil || e.root == nil {
		return Result{}
	}
	ev := &evaluator{vars: vars, now: now}
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if a, ok := r.(abort); ok {
				msg = a.msg
			}
			res = Result{Warnings: append(ev.warnings, Warning{WarnFailure, "failed to evaluate expression '" + e.src + "': " + msg})}
		}
	}()
	v := ev.eval(e.root, nil)
	return Result{Value: v, Warnings: ev.warnings}
}

type evaluator struct {
	vars     Lookup
	now      time.Time
	warnings []Warning
	steps    int
	depth    int
}

// maxWarnings caps the warnings kept per evaluation: a loop that fails on
// every element must not pile up megabytes of text.
const maxWarnings = 100

func (ev *evaluator) warn(typ, format string, args ...any) {
	if len(ev.warnings) < maxWarnings {
		ev.warnings = append(ev.warnings, Warning{typ, fmt.Sprintf(format, args...)})
	}
}

// charge accounts for work; it aborts the evaluation beyond maxSteps.
func (ev *evaluator) charge(n int) {
	ev.steps += n
	if ev.steps > maxSteps {
		panic(abort{"evaluation exceeded the step limit"})
	}
}

func (ev *evaluator) eval(n node, s *scope) any {
	ev.charge(1)
	return n.eval(ev, s)
}

func (ev *evaluator) clock() time.Time {
	if ev.now.IsZero() {
		ev.now = time.Now()
	}
	return ev.now.UTC()
}

// scope is one frame of local names: a single binding (iterator, parameter,
// "item"), the entries of a context, or both (a filter's element). Frames
// are linked to their parent; top-level variables come from the Lookup.
type scope struct {
	parent *scope
	name   string
	val    any
	ctx    map[string]any
}

func (s *scope) lookup(name string) (any, bool) {
	for f := s; f != nil; f = f.parent {
		if f.name != "" && f.name == name {
			return f.val, true
		}
		if f.ctx != nil {
			if v, ok := f.ctx[name]; ok {
				return v, true
			}
		}
	}
	return nil, false
}

func (ev *evaluator) lookup(name string, s *scope) (any, bool) {
	if v, ok := s.lookup(name); ok {
		return v, true
	}
	if ev.vars != nil {
		if v, ok := ev.vars(name); ok {
			return normalizeScalar(v), true
		}
	}
	return nil, false
}

type node interface {
	eval(ev *evaluator, s *scope) any
}

type opcode uint8

const (
	opAdd opcode = iota
	opSub
	opMul
	opDiv
	opPow
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opIn    // unary test: the value equals the expression's value (or is in its list)
	opRange // unary test: interval
)

var opText = [...]string{"+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">=", "in", ".."}

type (
	litNode  struct{ v any }
	nameNode struct{ name string }
	pathNode struct {
		base node
		key  string
	}
	listNode struct{ items []node }
	ctxNode  struct {
		keys []string
		vals []node
	}
	negNode   struct{ x node }
	arithNode struct {
		op   opcode
		l, r node
	}
	cmpNode struct {
		op   opcode
		l, r node
	}
	andNode     struct{ l, r node }
	orNode      struct{ l, r node }
	ifNode      struct{ c, t, e node }
	betweenNode struct{ x, lo, hi node }
	inNode      struct {
		x     node
		tests []unaryTest
	}
	instanceNode struct {
		x   node
		typ string
	}
	quantNode struct {
		every bool
		iters []iterator
		cond  node
	}
	forNode struct {
		iters []iterator
		body  node
	}
	lambdaNode struct {
		params []string
		body   node
	}
	callNode struct {
		name string
		fn   *builtin // nil when the name is not a built-in
		args []node
	}
	invokeNode struct {
		callee node
		args   []node
	}
	filterNode struct {
		base, cond node
		mode       filterMode
		index      Number
	}
)

type iterator struct {
	name        string
	domain, end node // end is set for a range "a..b"
}

type unaryTest struct {
	op             opcode // comparison, opIn or opRange
	e              node
	lo, hi         node
	loOpen, hiOpen bool
}

type filterMode uint8

const (
	filterIndex     filterMode = iota // a constant number
	filterPredicate                   // a condition evaluated per element
	filterDynamic                     // a number if it evaluates to one outside the element scope, else a condition
)

func newFilter(base, cond node) node {
	f := &filterNode{base: base, cond: cond, mode: filterDynamic}
	switch c := cond.(type) {
	case *litNode:
		if n, ok := c.v.(Number); ok {
			f.mode, f.index = filterIndex, n
		} else {
			f.mode = filterPredicate
		}
	case *cmpNode, *andNode, *orNode, *betweenNode, *inNode, *instanceNode, *quantNode:
		// Boolean by construction. Calls stay dynamic: list[count(list)] is an index.
		f.mode = filterPredicate
	}
	return f
}

// function is a user-defined function value (a lambda) with its defining scope.
type function struct {
	params []string
	body   node
	scope  *scope
}

func (n *litNode) eval(*evaluator, *scope) any { return n.v }

func (n *nameNode) eval(ev *evaluator, s *scope) any {
	if v, ok := ev.lookup(n.name, s); ok {
		return v
	}
	ev.warn(WarnNoVariable, "No variable found with name '%s'", n.name)
	return nil
}

func (n *pathNode) eval(ev *evaluator, s *scope) any {
	return ev.path(ev.eval(n.base, s), n.key)
}

func (ev *evaluator) path(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x[key]; ok {
			return r
		}
		ev.warn(WarnNoContextEntry, "No context entry found with key '%s'. Available keys: %s", key, quotedKeys(x))
		return nil
	case []any:
		// A path on a list projects every element.
		ev.charge(len(x))
		out := make([]any, len(x))
		for i, e := range x {
			if m, ok := e.(map[string]any); ok {
				out[i] = m[key]
			} else if e != nil {
				out[i] = ev.property(e, key)
			}
		}
		return out
	case nil:
		return nil
	}
	return ev.property(v, key)
}

func quotedKeys(m map[string]any) string {
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return "none"
	}
	more := ""
	if len(keys) > 20 {
		keys, more = keys[:20], ", ..."
	}
	return "'" + strings.Join(keys, "', '") + "'" + more
}

// property returns the named component of a temporal value.
func (ev *evaluator) property(v any, key string) any {
	switch x := v.(type) {
	case Date:
		switch key {
		case "year":
			return NewNumber(int64(x.Year))
		case "month":
			return NewNumber(int64(x.Month))
		case "day":
			return NewNumber(int64(x.Day))
		case "weekday":
			return NewNumber(int64((x.Time().Weekday()+6)%7 + 1))
		}
	case DateTime:
		switch key {
		case "year", "month", "day", "weekday":
			return ev.property(dateOf(x.Time), key)
		case "hour":
			return NewNumber(int64(x.Time.Hour()))
		case "minute":
			return NewNumber(int64(x.Time.Minute()))
		case "second":
			return NewNumber(int64(x.Time.Second()))
		}
	case Duration:
		d := time.Duration(x)
		switch key {
		case "days":
			return NewNumber(int64(d / (24 * time.Hour)))
		case "hours":
			return NewNumber(int64(d % (24 * time.Hour) / time.Hour))
		case "minutes":
			return NewNumber(int64(d % time.Hour / time.Minute))
		case "seconds":
			return NewNumber(int64(d % time.Minute / time.Second))
		}
	case YearMonthDuration:
		switch key {
		case "years":
			return NewNumber(int64(x) / 12)
		case "months":
			return NewNumber(int64(x) % 12)
		}
	}
	ev.warn(WarnNoContextEntry, "No context entry found with key '%s'. The value %s is not a context", key, repr(v))
	return nil
}

func (n *listNode) eval(ev *evaluator, s *scope) any {
	out := make([]any, len(n.items))
	for i, it := range n.items {
		out[i] = ev.eval(it, s)
	}
	return out
}

func (n *ctxNode) eval(ev *evaluator, s *scope) any {
	m := make(map[string]any, len(n.keys))
	// Entries see the ones before them: the map under construction is in scope.
	inner := &scope{parent: s, ctx: m}
	for i, k := range n.keys {
		m[k] = ev.eval(n.vals[i], inner)
	}
	return m
}

func (n *ifNode) eval(ev *evaluator, s *scope) any {
	if c, _ := ev.eval(n.c, s).(bool); c {
		return ev.eval(n.t, s)
	}
	return ev.eval(n.e, s)
}

// and/or are three-valued: a non-boolean operand counts as null.
func (n *andNode) eval(ev *evaluator, s *scope) any {
	l := ev.eval(n.l, s)
	if b, ok := l.(bool); ok && !b {
		return false
	}
	r := ev.eval(n.r, s)
	if b, ok := r.(bool); ok && !b {
		return false
	}
	lb, lok := l.(bool)
	rb, rok := r.(bool)
	if lok && rok {
		return lb && rb
	}
	return nil
}

func (n *orNode) eval(ev *evaluator, s *scope) any {
	l := ev.eval(n.l, s)
	if b, ok := l.(bool); ok && b {
		return true
	}
	r := ev.eval(n.r, s)
	if b, ok := r.(bool); ok && b {
		return true
	}
	_, lok := l.(bool)
	_, rok := r.(bool)
	if lok && rok {
		return false
	}
	return nil
}

func (n *cmpNode) eval(ev *evaluator, s *scope) any {
	return ev.compareOp(n.op, ev.eval(n.l, s), ev.eval(n.r, s))
}

// compareOp applies = != < <= > >=. Equality with null always works; other
// mixes of types yield null and a NOT_COMPARABLE warning.
func (ev *evaluator) compareOp(op opcode, l, r any) any {
	switch op {
	case opEq, opNe:
		eq, ok := equal(l, r)
		if !ok {
			ev.warn(WarnNotComparable, "Can't compare %s with %s", repr(l), repr(r))
			return nil
		}
		return eq == (op == opEq)
	}
	c, ok := compare(l, r)
	if !ok {
		ev.warn(WarnNotComparable, "Can't compare %s with %s", repr(l), repr(r))
		return nil
	}
	switch op {
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

func (n *betweenNode) eval(ev *evaluator, s *scope) any {
	x := ev.eval(n.x, s)
	ge := ev.compareOp(opGe, x, ev.eval(n.lo, s))
	le := ev.compareOp(opLe, x, ev.eval(n.hi, s))
	if ge == nil || le == nil {
		return nil
	}
	return ge.(bool) && le.(bool)
}

func (n *inNode) eval(ev *evaluator, s *scope) any {
	x := ev.eval(n.x, s)
	sawNull := false
	for i := range n.tests {
		switch ev.test(&n.tests[i], x, s) {
		case true:
			return true
		case nil:
			sawNull = true
		}
	}
	if sawNull {
		return nil
	}
	return false
}

// test evaluates one positive unary test against x: true, false or nil.
func (ev *evaluator) test(t *unaryTest, x any, s *scope) any {
	switch t.op {
	case opRange:
		lo, hi := ev.eval(t.lo, s), ev.eval(t.hi, s)
		loOp, hiOp := opGe, opLe
		if t.loOpen {
			loOp = opGt
		}
		if t.hiOpen {
			hiOp = opLt
		}
		a, b := ev.compareOp(loOp, x, lo), ev.compareOp(hiOp, x, hi)
		if a == nil || b == nil {
			return nil
		}
		return a.(bool) && b.(bool)
	case opIn:
		v := ev.eval(t.e, s)
		if l, ok := v.([]any); ok {
			return listContains(ev, l, x)
		}
		return ev.compareOp(opEq, x, v)
	}
	return ev.compareOp(t.op, x, ev.eval(t.e, s))
}

func listContains(ev *evaluator, l []any, x any) bool {
	ev.charge(len(l))
	for _, e := range l {
		if eq, ok := equal(e, x); ok && eq {
			return true
		}
	}
	return false
}

func (n *instanceNode) eval(ev *evaluator, s *scope) any {
	v := ev.eval(n.x, s)
	switch n.typ {
	case "Any":
		return v != nil
	case "Null":
		return v == nil
	case "number":
		_, ok := v.(Number)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "context":
		_, ok := v.(map[string]any)
		return ok
	case "list":
		_, ok := v.([]any)
		return ok
	case "date":
		_, ok := v.(Date)
		return ok
	case "date and time":
		_, ok := v.(DateTime)
		return ok
	case "days and time duration":
		_, ok := v.(Duration)
		return ok
	case "years and months duration":
		_, ok := v.(YearMonthDuration)
		return ok
	case "function":
		_, ok := v.(*function)
		return ok
	}
	return false
}

// domain evaluates an iteration domain to a list: a list, a single value
// (treated as a one-element list) or an integer range "a..b".
func (ev *evaluator) domain(it *iterator, s *scope) ([]any, bool) {
	v := ev.eval(it.domain, s)
	if it.end != nil {
		e := ev.eval(it.end, s)
		a, aok := v.(Number)
		b, bok := e.(Number)
		lo, lok := a.Int64()
		hi, hok := b.Int64()
		if !aok || !bok || !lok || !hok {
			ev.warn(WarnInvalidType, "Expected a range of integers but found %s..%s", repr(v), repr(e))
			return nil, false
		}
		step, n := int64(1), hi-lo+1
		if hi < lo {
			step, n = -1, lo-hi+1
		}
		if n <= 0 || n > maxSteps {
			panic(abort{"range too large"})
		}
		ev.charge(int(n))
		out := make([]any, 0, n)
		for i := lo; ; i += step {
			out = append(out, NewNumber(i))
			if i == hi {
				break
			}
		}
		return out, true
	}
	switch x := v.(type) {
	case []any:
		return x, true
	case nil:
		ev.warn(WarnInvalidType, "Expected a list to iterate over but found null")
		return nil, false
	}
	return []any{v}, true
}

func (n *forNode) eval(ev *evaluator, s *scope) any {
	out := []any{}
	if !ev.forLoop(n, 0, s, &out) {
		return nil
	}
	return out
}

func (ev *evaluator) forLoop(n *forNode, k int, s *scope, out *[]any) bool {
	it := &n.iters[k]
	items, ok := ev.domain(it, s)
	if !ok {
		return false
	}
	for _, v := range items {
		inner := &scope{parent: s, name: it.name, val: v}
		if k+1 < len(n.iters) {
			if !ev.forLoop(n, k+1, inner, out) {
				return false
			}
		} else {
			*out = append(*out, ev.eval(n.body, inner))
		}
	}
	return true
}

func (n *quantNode) eval(ev *evaluator, s *scope) any {
	sawNull := false
	decided, ok := ev.quantify(n, 0, s, &sawNull)
	switch {
	case !ok:
		return nil
	case decided:
		return !n.every
	case sawNull:
		return nil
	}
	return n.every
}

// quantify looks for a deciding element: true for some, false for every.
func (ev *evaluator) quantify(n *quantNode, k int, s *scope, sawNull *bool) (decided, ok bool) {
	it := &n.iters[k]
	items, ok := ev.domain(it, s)
	if !ok {
		return false, false
	}
	for _, v := range items {
		inner := &scope{parent: s, name: it.name, val: v}
		if k+1 < len(n.iters) {
			if d, ok := ev.quantify(n, k+1, inner, sawNull); !ok || d {
				return d, ok
			}
			continue
		}
		b, isBool := ev.eval(n.cond, inner).(bool)
		switch {
		case !isBool:
			*sawNull = true
		case b != n.every:
			return true, true
		}
	}
	return false, true
}

func (n *filterNode) eval(ev *evaluator, s *scope) any {
	base := ev.eval(n.base, s)
	if base == nil {
		return nil
	}
	list, ok := base.([]any)
	if !ok {
		list = []any{base} // a single value filters like a one-element list
	}
	switch n.mode {
	case filterIndex:
		return index(list, n.index)
	case filterDynamic:
		mark := len(ev.warnings)
		if idx, ok := ev.eval(n.cond, s).(Number); ok {
			return index(list, idx)
		}
		// Not an index: drop the warnings of this attempt (names that only
		// exist inside the elements) and filter by condition instead.
		ev.warnings = ev.warnings[:mark]
	}
	out := []any{}
	for _, e := range list {
		inner := &scope{parent: s, name: "item", val: e}
		if m, ok := e.(map[string]any); ok {
			inner.ctx = m
		}
		if b, _ := ev.eval(n.cond, inner).(bool); b {
			out = append(out, e)
		}
	}
	return out
}

// index returns the element at a 1-based position (negative counts from the
// end); out of range gives null.
func index(list []any, n Number) any {
	i, ok := n.Int64()
	if !ok {
		return nil
	}
	switch {
	case i > 0 && i <= int64(len(list)):
		return list[i-1]
	case i < 0 && -i <= int64(len(list)):
		return list[int64(len(list))+i]
	}
	return nil
}

func (n *lambdaNode) eval(_ *evaluator, s *scope) any {
	return &function{params: n.params, body: n.body, scope: s}
}

func (n *invokeNode) eval(ev *evaluator, s *scope) any {
	callee := ev.eval(n.callee, s)
	f, ok := callee.(*function)
	if !ok {
		ev.warn(WarnNoFunction, "No function found: %s is not a function", repr(callee))
		return nil
	}
	return ev.apply(f, ev.evalArgs(n.args, s))
}

func (ev *evaluator) evalArgs(args []node, s *scope) []any {
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = ev.eval(a, s)
	}
	return vals
}

// apply calls a user-defined function; missing arguments are null.
func (ev *evaluator) apply(f *function, args []any) any {
	if len(args) > len(f.params) {
		ev.warn(WarnNoFunction, "No function found with %d parameters (it takes %d)", len(args), len(f.params))
		return nil
	}
	ev.depth++
	if ev.depth > maxCallDepth {
		panic(abort{"function calls nested too deeply"})
	}
	defer func() { ev.depth-- }()
	s := f.scope
	for i, p := range f.params {
		var v any
		if i < len(args) {
			v = args[i]
		}
		s = &scope{parent: s, name: p, val: v}
	}
	return ev.eval(f.body, s)
}

func (n *callNode) eval(ev *evaluator, s *scope) any {
	// A function bound to a local name (a context entry, a parameter) wins
	// over a built-in of the same name.
	if v, ok := s.lookup(n.name); ok {
		if f, ok := v.(*function); ok {
			return ev.apply(f, ev.evalArgs(n.args, s))
		}
	}
	if n.fn == nil {
		ev.warn(WarnNoFunction, "No function found with name '%s' and %d parameters", n.name, len(n.args))
		return nil
	}
	if len(n.args) < n.fn.min || (n.fn.max >= 0 && len(n.args) > n.fn.max) {
		ev.warn(WarnNoFunction, "No function found with name '%s' and %d parameters", n.name, len(n.args))
		return nil
	}
	if n.fn.raw != nil {
		return n.fn.raw(ev, n.args, s)
	}
	return n.fn.fn(ev, n.name, ev.evalArgs(n.args, s))
}

func (n *negNode) eval(ev *evaluator, s *scope) any {
	switch x := ev.eval(n.x, s).(type) {
	case Number:
		return x.Neg()
	case Duration:
		return -x
	case YearMonthDuration:
		return -x
	case nil:
		return nil
	default:
		ev.warn(WarnInvalidType, "Can't negate %s", repr(x))
		return nil
	}
}

func (n *arithNode) eval(ev *evaluator, s *scope) any {
	return ev.arith(n.op, ev.eval(n.l, s), ev.eval(n.r, s))
}
