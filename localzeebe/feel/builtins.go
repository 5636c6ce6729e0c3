package feel

import (
	"fmt"
	"math"
	"math/bits"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// builtin is a built-in function: fn receives evaluated arguments; raw (used
// by "is defined") receives the unevaluated argument nodes.
type builtin struct {
	min, max int // number of parameters; max < 0 means variadic
	fn       func(ev *evaluator, name string, args []any) any
	raw      func(ev *evaluator, args []node, s *scope) any
}

// builtins is filled once at package initialisation and only read afterwards.
var builtins = map[string]*builtin{
	// boolean
	"not": {1, 1, fnNot, nil},
	"all": {1, -1, fnAll, nil},
	"any": {1, -1, fnAny, nil},
	// lists
	"count":           {1, 1, fnCount, nil},
	"sum":             {1, -1, fnSum, nil},
	"product":         {1, -1, fnProduct, nil},
	"mean":            {1, -1, fnMean, nil},
	"min":             {1, -1, fnMinMax, nil},
	"max":             {1, -1, fnMinMax, nil},
	"append":          {1, -1, fnAppend, nil},
	"concatenate":     {0, -1, fnConcatenate, nil},
	"list contains":   {2, 2, fnListContains, nil},
	"distinct values": {1, 1, fnDistinct, nil},
	"flatten":         {1, 1, fnFlatten, nil},
	"sort":            {1, 2, fnSort, nil},
	"string join":     {1, 4, fnStringJoin, nil},
	"reverse":         {1, 1, fnReverse, nil},
	"index of":        {2, 2, fnIndexOf, nil},
	"sublist":         {2, 3, fnSublist, nil},
	"is empty":        {1, 1, fnIsEmpty, nil},
	// contexts and null handling
	"get or else":   {2, 2, fnGetOrElse, nil},
	"is defined":    {1, 1, nil, fnIsDefined},
	"context merge": {1, -1, fnContextMerge, nil},
	"context put":   {3, 3, fnContextPut, nil},
	"context":       {1, 1, fnContext, nil},
	"get value":     {2, 2, fnGetValue, nil},
	"get entries":   {1, 1, fnGetEntries, nil},
	// strings
	"string":           {1, 1, fnString, nil},
	"number":           {1, 3, fnNumber, nil},
	"string length":    {1, 1, fnStringLength, nil},
	"substring":        {2, 3, fnSubstring, nil},
	"substring before": {2, 2, fnSubstringBefore, nil},
	"substring after":  {2, 2, fnSubstringAfter, nil},
	"upper case":       {1, 1, fnUpperCase, nil},
	"lower case":       {1, 1, fnLowerCase, nil},
	"contains":         {2, 2, fnContains, nil},
	"starts with":      {2, 2, fnStartsWith, nil},
	"ends with":        {2, 2, fnEndsWith, nil},
	"matches":          {2, 3, fnMatches, nil},
	"replace":          {3, 4, fnReplace, nil},
	"split":            {2, 2, fnSplit, nil},
	// numbers
	"abs":             {1, 1, fnAbs, nil},
	"floor":           {1, 2, fnRound, nil},
	"ceiling":         {1, 2, fnRound, nil},
	"decimal":         {2, 2, fnRound, nil},
	"round half up":   {2, 2, fnRound, nil},
	"round half down": {2, 2, fnRound, nil},
	"round up":        {2, 2, fnRound, nil},
	"round down":      {2, 2, fnRound, nil},
	"modulo":          {2, 2, fnModulo, nil},
	"odd":             {1, 1, fnOddEven, nil},
	"even":            {1, 1, fnOddEven, nil},
	"sqrt":            {1, 1, fnFloatMath, nil},
	"log":             {1, 1, fnFloatMath, nil},
	"exp":             {1, 1, fnFloatMath, nil},
	// temporal
	"duration":                  {1, 1, fnDuration, nil},
	"years and months duration": {2, 2, fnYearsMonths, nil},
	"now":                       {0, 0, fnNow, nil},
	"today":                     {0, 0, fnToday, nil},
	"date and time":             {1, 1, fnDateAndTime, nil},
	"date":                      {1, 3, fnDate, nil},
	// Zeebe's own
	"cycle": {1, 2, fnCycle, nil},
}

// fail reports a failed invocation and returns null.
func (ev *evaluator) fail(name, format string, args ...any) any {
	ev.warn(WarnFunctionFailure, "Failed to invoke function '%s': %s", name, fmt.Sprintf(format, args...))
	return nil
}

func (ev *evaluator) illegal(name string, args []any) any {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = repr(a)
	}
	return ev.fail(name, "illegal arguments: %s", strings.Join(parts, ", "))
}

// listOrArgs supports the two call styles of the aggregate functions:
// f([a, b, c]) and f(a, b, c).
func listOrArgs(args []any) []any {
	if len(args) == 1 {
		if l, ok := args[0].([]any); ok {
			return l
		}
	}
	return args
}

func numbersOf(items []any) ([]Number, bool) {
	ns := make([]Number, len(items))
	for i, v := range items {
		n, ok := v.(Number)
		if !ok {
			return nil, false
		}
		ns[i] = n
	}
	return ns, true
}

func fnNot(_ *evaluator, _ string, args []any) any {
	if b, ok := args[0].(bool); ok {
		return !b
	}
	return nil
}

func fnAll(ev *evaluator, name string, args []any) any {
	return ev.fold(listOrArgs(args), false)
}

func fnAny(ev *evaluator, name string, args []any) any {
	return ev.fold(listOrArgs(args), true)
}

// fold is three-valued "or" (decider true) or "and" (decider false) over a list.
func (ev *evaluator) fold(items []any, decider bool) any {
	ev.charge(len(items))
	sawNull := false
	for _, v := range items {
		b, ok := v.(bool)
		switch {
		case !ok:
			sawNull = true
		case b == decider:
			return decider
		}
	}
	if sawNull {
		return nil
	}
	return !decider
}

func fnCount(ev *evaluator, name string, args []any) any {
	if l, ok := args[0].([]any); ok {
		return NewNumber(int64(len(l)))
	}
	return ev.illegal(name, args)
}

func fnSum(ev *evaluator, name string, args []any) any {
	ns, ok := numbersOf(listOrArgs(args))
	if !ok {
		return ev.illegal(name, args)
	}
	ev.charge(len(ns))
	var sum Number
	for _, n := range ns {
		var err error
		if sum, err = sum.Add(n); err != nil {
			return ev.fail(name, "%v", err)
		}
	}
	return sum
}

func fnProduct(ev *evaluator, name string, args []any) any {
	ns, ok := numbersOf(listOrArgs(args))
	if !ok {
		return ev.illegal(name, args)
	}
	if len(ns) == 0 {
		return nil
	}
	ev.charge(len(ns))
	p := NewNumber(1)
	for _, n := range ns {
		var err error
		if p, err = p.Mul(n); err != nil {
			return ev.fail(name, "%v", err)
		}
	}
	return p
}

func fnMean(ev *evaluator, name string, args []any) any {
	items := listOrArgs(args)
	if len(items) == 0 {
		return nil
	}
	sum, ok := fnSum(ev, name, args).(Number)
	if !ok {
		return nil
	}
	m, err := sum.Quo(NewNumber(int64(len(items))))
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	return m
}

func fnMinMax(ev *evaluator, name string, args []any) any {
	items := listOrArgs(args)
	if len(items) == 0 {
		return nil
	}
	ev.charge(len(items))
	best := items[0]
	for _, v := range items[1:] {
		c, ok := compare(v, best)
		if !ok {
			return ev.illegal(name, args)
		}
		if (name == "min" && c < 0) || (name == "max" && c > 0) {
			best = v
		}
	}
	if _, ok := compare(best, best); !ok {
		return ev.illegal(name, args)
	}
	return best
}

func fnAppend(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	ev.charge(len(l) + len(args))
	out := make([]any, 0, len(l)+len(args)-1)
	return append(append(out, l...), args[1:]...)
}

func fnConcatenate(ev *evaluator, name string, args []any) any {
	out := []any{}
	for _, a := range args {
		l, ok := a.([]any)
		if !ok {
			return ev.illegal(name, args)
		}
		ev.charge(len(l))
		out = append(out, l...)
	}
	return out
}

func fnListContains(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	return listContains(ev, l, args[1])
}

func fnDistinct(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	out := []any{}
	for _, v := range l {
		if !listContains(ev, out, v) {
			out = append(out, v)
		}
	}
	return out
}

func fnFlatten(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	out := []any{}
	var walk func([]any)
	walk = func(l []any) {
		ev.charge(len(l))
		for _, v := range l {
			if inner, ok := v.([]any); ok {
				walk(inner)
			} else {
				out = append(out, v)
			}
		}
	}
	walk(l)
	return out
}

func fnSort(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	out := append([]any{}, l...)
	ev.charge(len(out) * (bits.Len(uint(len(out))) + 1)) // n·log n comparisons
	if len(args) == 2 {
		f, ok := args[1].(*function)
		if !ok {
			return ev.illegal(name, args)
		}
		failed := false
		sort.SliceStable(out, func(i, j int) bool {
			b, ok := ev.apply(f, []any{out[i], out[j]}).(bool)
			failed = failed || !ok
			return b
		})
		if failed {
			return ev.fail(name, "the precedence function must return a boolean")
		}
		return out
	}
	failed := false
	sort.SliceStable(out, func(i, j int) bool {
		c, ok := compare(out[i], out[j])
		failed = failed || !ok
		return c < 0
	})
	if failed || (len(out) == 1 && !comparableToSelf(out[0])) {
		return ev.illegal(name, args)
	}
	return out
}

func comparableToSelf(v any) bool { _, ok := compare(v, v); return ok }

func fnStringJoin(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok || len(args) == 3 {
		return ev.illegal(name, args)
	}
	strs := make([]string, 0, len(l))
	for _, v := range l {
		switch s := v.(type) {
		case string:
			strs = append(strs, s)
		case nil: // nulls are skipped
		default:
			return ev.illegal(name, args)
		}
	}
	var parts [3]string // delimiter, prefix, suffix
	for i := 1; i < len(args); i++ {
		switch s := args[i].(type) {
		case string:
			parts[i-1] = s
		case nil:
		default:
			return ev.illegal(name, args)
		}
	}
	n := len(parts[1]) + len(parts[2])
	for _, s := range strs {
		n += len(s) + len(parts[0])
	}
	if n > maxStringLen {
		return ev.fail(name, "the result would be longer than %d bytes", maxStringLen)
	}
	ev.charge(len(strs) + n/64)
	return parts[1] + strings.Join(strs, parts[0]) + parts[2]
}

func fnReverse(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	ev.charge(len(l))
	out := make([]any, len(l))
	for i, v := range l {
		out[len(l)-1-i] = v
	}
	return out
}

func fnIndexOf(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	ev.charge(len(l))
	out := []any{}
	for i, v := range l {
		if eq, ok := equal(v, args[1]); ok && eq {
			out = append(out, NewNumber(int64(i+1)))
		}
	}
	return out
}

func fnSublist(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	start, ok2 := intOf(args[1])
	if !ok || !ok2 {
		return ev.illegal(name, args)
	}
	from, ok := position(start, len(l))
	if !ok {
		return ev.fail(name, "start position %d is out of range", start)
	}
	to := len(l)
	if len(args) == 3 {
		n, ok := intOf(args[2])
		if !ok || n < 0 {
			return ev.illegal(name, args)
		}
		to = min(to, from+n)
	}
	ev.charge(to - from)
	return append([]any{}, l[from:to]...)
}

// position converts a 1-based position (negative from the end) into a
// 0-based index within [0, n).
func position(p, n int) (int, bool) {
	switch {
	case p > 0 && p <= n:
		return p - 1, true
	case p < 0 && -p <= n:
		return n + p, true
	}
	return 0, false
}

func intOf(v any) (int, bool) {
	n, ok := v.(Number)
	if !ok {
		return 0, false
	}
	return n.intArg()
}

func fnIsEmpty(ev *evaluator, name string, args []any) any {
	if l, ok := args[0].([]any); ok {
		return len(l) == 0
	}
	return ev.illegal(name, args)
}

func fnGetOrElse(_ *evaluator, _ string, args []any) any {
	if args[0] != nil {
		return args[0]
	}
	return args[1]
}

// fnIsDefined checks a name or path without evaluating it into warnings: a
// missing variable or context entry is "not defined", while null is defined.
func fnIsDefined(ev *evaluator, args []node, s *scope) any {
	_, ok := ev.defined(args[0], s)
	return ok
}

func (ev *evaluator) defined(n node, s *scope) (any, bool) {
	switch x := n.(type) {
	case *nameNode:
		return ev.lookup(x.name, s)
	case *pathNode:
		base, ok := ev.defined(x.base, s)
		if !ok {
			return nil, false
		}
		if m, isCtx := base.(map[string]any); isCtx {
			v, ok := m[x.key]
			return v, ok
		}
		mark := len(ev.warnings)
		v := ev.path(base, x.key)
		ok = len(ev.warnings) == mark
		ev.warnings = ev.warnings[:mark]
		return v, ok
	}
	return ev.eval(n, s), true
}

func contextsOf(items []any) ([]map[string]any, bool) {
	out := make([]map[string]any, len(items))
	for i, v := range items {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		out[i] = m
	}
	return out, true
}

func fnContextMerge(ev *evaluator, name string, args []any) any {
	ctxs, ok := contextsOf(listOrArgs(args))
	if !ok {
		return ev.illegal(name, args)
	}
	out := map[string]any{}
	for _, m := range ctxs {
		ev.charge(len(m))
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func copyContext(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func fnContextPut(ev *evaluator, name string, args []any) any {
	m, ok := args[0].(map[string]any)
	if !ok {
		return ev.illegal(name, args)
	}
	var keys []string
	switch k := args[1].(type) {
	case string:
		keys = []string{k}
	case []any:
		for _, e := range k {
			s, ok := e.(string)
			if !ok {
				return ev.illegal(name, args)
			}
			keys = append(keys, s)
		}
	}
	if len(keys) == 0 {
		return ev.illegal(name, args)
	}
	return putPath(ev, m, keys, args[2])
}

// putPath returns a copy of m with the nested entry keys set to v.
func putPath(ev *evaluator, m map[string]any, keys []string, v any) map[string]any {
	ev.charge(len(m))
	out := copyContext(m)
	if len(keys) == 1 {
		out[keys[0]] = v
		return out
	}
	inner, _ := out[keys[0]].(map[string]any)
	out[keys[0]] = putPath(ev, inner, keys[1:], v)
	return out
}

func fnContext(ev *evaluator, name string, args []any) any {
	l, ok := args[0].([]any)
	if !ok {
		return ev.illegal(name, args)
	}
	ev.charge(len(l))
	out := map[string]any{}
	for _, e := range l {
		m, ok := e.(map[string]any)
		k, kok := m["key"].(string)
		v, vok := m["value"]
		if !ok || !kok || !vok {
			return ev.illegal(name, args)
		}
		out[k] = v
	}
	return out
}

func fnGetValue(ev *evaluator, name string, args []any) any {
	m, ok := args[0].(map[string]any)
	if !ok {
		return ev.illegal(name, args)
	}
	switch k := args[1].(type) {
	case string:
		return m[k]
	case []any:
		var cur any = m
		for _, e := range k {
			s, ok := e.(string)
			if !ok {
				return ev.illegal(name, args)
			}
			c, isCtx := cur.(map[string]any)
			if !isCtx {
				return nil
			}
			cur = c[s]
		}
		return cur
	}
	return ev.illegal(name, args)
}

func fnGetEntries(ev *evaluator, name string, args []any) any {
	m, ok := args[0].(map[string]any)
	if !ok {
		return ev.illegal(name, args)
	}
	ev.charge(len(m))
	out := make([]any, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, map[string]any{"key": k, "value": m[k]})
	}
	return out
}

func fnString(ev *evaluator, name string, args []any) any {
	if args[0] == nil {
		return nil
	}
	s := toString(args[0])
	if len(s) > maxStringLen {
		return ev.fail(name, "the result would be longer than %d bytes", maxStringLen)
	}
	ev.charge(len(s) / 16)
	return s
}

func fnNumber(ev *evaluator, name string, args []any) any {
	s, ok := args[0].(string)
	if !ok {
		if n, isNum := args[0].(Number); isNum && len(args) == 1 {
			return n
		}
		return ev.illegal(name, args)
	}
	if len(args) > 1 {
		seps := [2]string{"", "."}
		for i := 1; i < len(args); i++ {
			switch v := args[i].(type) {
			case string:
				seps[i-1] = v
			case nil:
			default:
				return ev.illegal(name, args)
			}
		}
		if seps[0] != "" {
			s = strings.ReplaceAll(s, seps[0], "")
		}
		if seps[1] != "." {
			if strings.Contains(s, ".") {
				return nil
			}
			s = strings.ReplaceAll(s, seps[1], ".")
		}
	}
	n, err := ParseNumber(s)
	if err != nil {
		return nil
	}
	return n
}

func stringArgs(args []any, n int) ([]string, bool) {
	out := make([]string, n)
	for i := 0; i < n; i++ {
		s, ok := args[i].(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func fnStringLength(ev *evaluator, name string, args []any) any {
	if s, ok := args[0].(string); ok {
		return NewNumber(int64(utf8.RuneCountInString(s)))
	}
	return ev.illegal(name, args)
}

// fnSubstring counts in characters (runes) from position 1; a negative
// start counts from the end.
func fnSubstring(ev *evaluator, name string, args []any) any {
	s, ok := args[0].(string)
	start, ok2 := intOf(args[1])
	if !ok || !ok2 {
		return ev.illegal(name, args)
	}
	rs := []rune(s)
	ev.charge(len(rs) / 64)
	from, ok := position(start, len(rs))
	if !ok {
		if start > len(rs) {
			return ""
		}
		return ev.fail(name, "start position %d is out of range", start)
	}
	to := len(rs)
	if len(args) == 3 {
		n, ok := intOf(args[2])
		if !ok || n < 0 {
			return ev.illegal(name, args)
		}
		to = min(to, from+n)
	}
	return string(rs[from:to])
}

func fnSubstringBefore(ev *evaluator, name string, args []any) any {
	ss, ok := stringArgs(args, 2)
	if !ok {
		return ev.illegal(name, args)
	}
	if i := strings.Index(ss[0], ss[1]); i >= 0 {
		return ss[0][:i]
	}
	return ""
}

func fnSubstringAfter(ev *evaluator, name string, args []any) any {
	ss, ok := stringArgs(args, 2)
	if !ok {
		return ev.illegal(name, args)
	}
	if i := strings.Index(ss[0], ss[1]); i >= 0 {
		return ss[0][i+len(ss[1]):]
	}
	return ""
}

func fnUpperCase(ev *evaluator, name string, args []any) any {
	if s, ok := args[0].(string); ok {
		ev.charge(len(s) / 64)
		return strings.ToUpper(s)
	}
	return ev.illegal(name, args)
}

func fnLowerCase(ev *evaluator, name string, args []any) any {
	if s, ok := args[0].(string); ok {
		ev.charge(len(s) / 64)
		return strings.ToLower(s)
	}
	return ev.illegal(name, args)
}

func fnContains(ev *evaluator, name string, args []any) any {
	if ss, ok := stringArgs(args, 2); ok {
		return strings.Contains(ss[0], ss[1])
	}
	return ev.illegal(name, args)
}

func fnStartsWith(ev *evaluator, name string, args []any) any {
	if ss, ok := stringArgs(args, 2); ok {
		return strings.HasPrefix(ss[0], ss[1])
	}
	return ev.illegal(name, args)
}

func fnEndsWith(ev *evaluator, name string, args []any) any {
	if ss, ok := stringArgs(args, 2); ok {
		return strings.HasSuffix(ss[0], ss[1])
	}
	return ev.illegal(name, args)
}

// compileRegex compiles an XPath-style pattern with flags i, s, m. Go's RE2
// syntax covers the common subset of Java's; back-references and
// look-arounds are not supported (the call fails with a warning).
func compileRegex(pattern string, flags any) (*regexp.Regexp, error) {
	prefix := ""
	switch f := flags.(type) {
	case nil:
	case string:
		for _, c := range f {
			switch c {
			case 'i', 's', 'm':
				if !strings.ContainsRune(prefix, c) {
					prefix += string(c)
				}
			default:
				return nil, fmt.Errorf("unsupported flag '%c'", c)
			}
		}
	default:
		return nil, fmt.Errorf("flags must be a string")
	}
	if prefix != "" {
		pattern = "(?" + prefix + ")" + pattern
	}
	return regexp.Compile(pattern)
}

func optArg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func fnMatches(ev *evaluator, name string, args []any) any {
	ss, ok := stringArgs(args, 2)
	if !ok {
		return ev.illegal(name, args)
	}
	re, err := compileRegex(ss[1], optArg(args, 2))
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	ev.charge(len(ss[0]) / 16)
	return re.MatchString(ss[0])
}

func fnReplace(ev *evaluator, name string, args []any) any {
	ss, ok := stringArgs(args, 3)
	if !ok {
		return ev.illegal(name, args)
	}
	re, err := compileRegex(ss[1], optArg(args, 3))
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	ev.charge(len(ss[0]) / 16)
	out := re.ReplaceAllString(ss[0], javaReplacement(ss[2]))
	if len(out) > maxStringLen {
		return ev.fail(name, "the result would be longer than %d bytes", maxStringLen)
	}
	return out
}

// javaReplacement turns a Java/XPath replacement ("$1", "\$") into Go's
// template syntax ("${1}", "$$").
func javaReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case c == '$':
			j := i + 1
			for j < len(r) && isDigit(r[j]) {
				j++
			}
			if j == i+1 {
				b.WriteString("$$")
				continue
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func fnSplit(ev *evaluator, name string, args []any) any {
	ss, ok := stringArgs(args, 2)
	if !ok {
		return ev.illegal(name, args)
	}
	re, err := regexp.Compile(ss[1])
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	parts := re.Split(ss[0], -1)
	ev.charge(len(parts))
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

func fnAbs(ev *evaluator, name string, args []any) any {
	switch x := args[0].(type) {
	case Number:
		return x.Abs()
	case Duration:
		if x < 0 && x != math.MinInt64 {
			return -x
		}
		return x
	case YearMonthDuration:
		if x < 0 {
			return -x
		}
		return x
	}
	return ev.illegal(name, args)
}

var roundingModes = map[string]roundingMode{
	"floor": roundFloor, "ceiling": roundCeiling, "decimal": roundHalfEven,
	"round half up": roundHalfUp, "round half down": roundHalfDown,
	"round up": roundUp, "round down": roundDown,
}

// fnRound implements floor, ceiling, decimal and the round … functions.
// The scale is limited to DECIMAL128's exponent range.
func fnRound(ev *evaluator, name string, args []any) any {
	n, ok := args[0].(Number)
	scale := 0
	if len(args) == 2 {
		var sok bool
		scale, sok = intOf(args[1])
		ok = ok && sok
	}
	if !ok {
		return ev.illegal(name, args)
	}
	if scale < -6111 || scale > 6176 {
		return ev.fail(name, "scale %d is out of range", scale)
	}
	r, err := n.roundScale(int64(scale), roundingModes[name])
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	return r
}

// fnModulo returns dividend - divisor × floor(dividend / divisor): the
// result has the sign of the divisor.
func fnModulo(ev *evaluator, name string, args []any) any {
	a, ok1 := args[0].(Number)
	b, ok2 := args[1].(Number)
	if !ok1 || !ok2 {
		return ev.illegal(name, args)
	}
	if b.Sign() == 0 {
		return ev.fail(name, "division by zero")
	}
	q, err := a.Quo(b)
	if err == nil {
		q, err = q.Floor().Mul(b)
	}
	if err == nil {
		q, err = a.Sub(q)
	}
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	return q
}

func fnOddEven(ev *evaluator, name string, args []any) any {
	n, ok := args[0].(Number)
	if !ok || !n.IsInteger() {
		return ev.illegal(name, args)
	}
	odd := n.exp == 0 && n.coef().Bit(0) == 1
	return odd == (name == "odd")
}

func fnFloatMath(ev *evaluator, name string, args []any) any {
	n, ok := args[0].(Number)
	if !ok {
		return ev.illegal(name, args)
	}
	f := n.Float64()
	switch name {
	case "sqrt":
		f = math.Sqrt(f)
	case "log":
		f = math.Log(f)
	case "exp":
		f = math.Exp(f)
	}
	r, err := NumberFromFloat(f)
	if err != nil {
		return ev.illegal(name, args)
	}
	return r
}

func fnDuration(ev *evaluator, name string, args []any) any {
	s, ok := args[0].(string)
	if !ok {
		return ev.illegal(name, args)
	}
	d, err := parseFEELDuration(s)
	if err != nil {
		return ev.fail(name, "%v", err)
	}
	return d
}

// fnYearsMonths returns the whole months between two dates (or date-times).
func fnYearsMonths(ev *evaluator, name string, args []any) any {
	var ts [2]time.Time
	for i := range ts {
		switch x := args[i].(type) {
		case Date:
			ts[i] = x.Time()
		case DateTime:
			ts[i] = wall(x.Time)
		default:
			return ev.illegal(name, args)
		}
	}
	from, to := ts[0], ts[1]
	months := int64(to.Year()-from.Year())*12 + int64(to.Month()-from.Month())
	// Drop an incomplete last month.
	if months > 0 && to.Before(mustAddMonths(from, months)) {
		months--
	} else if months < 0 && to.After(mustAddMonths(from, months)) {
		months++
	}
	return YearMonthDuration(months)
}

func mustAddMonths(t time.Time, m int64) time.Time {
	r, _ := addMonths(t, m)
	return r
}

func fnNow(ev *evaluator, _ string, _ []any) any { return DateTime{Time: ev.clock()} }

func fnToday(ev *evaluator, _ string, _ []any) any { return dateOf(ev.clock()) }

func fnDateAndTime(ev *evaluator, name string, args []any) any {
	switch x := args[0].(type) {
	case string:
		dt, err := parseDateTime(x)
		if err != nil {
			return ev.fail(name, "%v", err)
		}
		return dt
	case DateTime:
		return x
	case Date:
		return DateTime{Time: x.Time(), Local: true}
	}
	return ev.illegal(name, args)
}

func fnDate(ev *evaluator, name string, args []any) any {
	if len(args) == 3 {
		y, ok1 := intOf(args[0])
		m, ok2 := intOf(args[1])
		d, ok3 := intOf(args[2])
		if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
			return ev.illegal(name, args)
		}
		return Date{y, time.Month(m), d}
	}
	if len(args) != 1 {
		return ev.illegal(name, args)
	}
	switch x := args[0].(type) {
	case string:
		d, err := parseDate(x)
		if err != nil {
			return ev.fail(name, "%v", err)
		}
		return d
	case Date:
		return x
	case DateTime:
		return dateOf(x.Time)
	}
	return ev.illegal(name, args)
}

// fnCycle is Zeebe's cycle(repetitions, duration) → "R3/PT1H" and
// cycle(duration) → "R/PT1H" (infinite repetitions).
func fnCycle(ev *evaluator, name string, args []any) any {
	d := args[len(args)-1]
	switch d.(type) {
	case Duration, YearMonthDuration:
	default:
		return ev.illegal(name, args)
	}
	if len(args) == 1 {
		return "R/" + toString(d)
	}
	n, ok := intOf(args[0])
	if !ok || n < 0 {
		return ev.illegal(name, args)
	}
	return fmt.Sprintf("R%d/%s", n, toString(d))
}
