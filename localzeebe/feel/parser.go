package feel

import (
	"fmt"
	"strings"
)

// Expression is a parsed FEEL expression (the text after Zeebe's leading '=').
// It is immutable and safe for concurrent use: parse once, evaluate many times.
type Expression struct {
	src  string
	root node
}

// String returns the source text.
func (e *Expression) String() string { return e.src }

// maxNesting bounds the parser's recursion so that hostile input cannot
// exhaust the stack (a Go stack overflow cannot be recovered).
const maxNesting = 256

// Parse parses an expression. A syntax error, or a construct outside the
// supported subset, returns a *ParseError.
func Parse(src string) (expr *Expression, err error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*ParseError)
			if !ok {
				pe = newParseError(src, p.peek().pos, "internal error: %v", r)
			}
			expr, err = nil, pe
		}
	}()
	root := p.expr()
	if t := p.peek(); t.kind != tEOF {
		p.fail(t, "unexpected %s", describe(t))
	}
	return &Expression{src: src, root: root}, nil
}

type parser struct {
	src      string
	toks     []token
	i        int
	depth    int
	noFilter bool // while parsing a range's upper endpoint (see tryInterval)
	work     int  // tokens consumed, including re-parses after backtracking
}

// try runs f and reports whether it parsed without a syntax error.
func (p *parser) try(f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isParse := r.(*ParseError); !isParse {
				panic(r)
			}
			ok = false
		}
	}()
	f()
	return true
}

func (p *parser) expectRangeEnd() {
	if t := p.next(); t.kind != tPunct || (t.text != ")" && t.text != "]" && t.text != "[") {
		p.fail(t, "expected ')', ']' or '[' to close the range but found %s", describe(t))
	}
}

// reserved words cannot name variables.
var reserved = map[string]bool{
	"true": true, "false": true, "null": true, "and": true, "or": true,
	"if": true, "then": true, "else": true, "for": true, "in": true, "return": true,
	"some": true, "every": true, "satisfies": true, "between": true,
	"instance": true, "of": true, "function": true,
}

// multiWordFunctions are the built-ins whose names contain spaces; they are
// recognised only directly before '('. Longer names come first.
var multiWordFunctions = [][]string{
	{"years", "and", "months", "duration"},
	{"round", "half", "down"}, {"round", "half", "up"},
	{"date", "and", "time"}, {"get", "or", "else"},
	{"list", "contains"}, {"distinct", "values"}, {"string", "join"},
	{"index", "of"}, {"is", "defined"}, {"is", "empty"},
	{"context", "merge"}, {"context", "put"}, {"get", "value"}, {"get", "entries"},
	{"string", "length"}, {"upper", "case"}, {"lower", "case"},
	{"starts", "with"}, {"ends", "with"}, {"round", "up"}, {"round", "down"},
	{"substring", "before"}, {"substring", "after"},
}

// typeNames are the types accepted after "instance of".
var typeNames = [][]string{
	{"days", "and", "time", "duration"}, {"years", "and", "months", "duration"},
	{"date", "and", "time"}, {"number"}, {"string"}, {"boolean"}, {"context"},
	{"list"}, {"date"}, {"function"}, {"Any"}, {"Null"},
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	// Backtracking in ranges can re-parse nested input; bound the total work
	// so that no input makes parsing slow.
	p.work++
	if p.work > 64*len(p.toks)+1024 {
		p.fail(p.toks[p.i], "expression too complex")
	}
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isName(s string) bool {
	t := p.peek()
	return t.kind == tName && t.text == s
}

func (p *parser) fail(t token, format string, args ...any) {
	panic(newParseError(p.src, t.pos, format, args...))
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tQName:
		return "name `" + t.text + "`"
	}
	return "token '" + t.text + "'"
}

func (p *parser) expectPunct(s string) token {
	t := p.next()
	if t.kind != tPunct || t.text != s {
		p.fail(t, "expected '%s' but found %s", s, describe(t))
	}
	return t
}

func (p *parser) expectName(s string) {
	if t := p.next(); t.kind != tName || t.text != s {
		p.fail(t, "expected '%s' but found %s", s, describe(t))
	}
}

// variableName reads a name that binds a variable (iterator, parameter).
func (p *parser) variableName() string {
	t := p.next()
	if t.kind == tQName || (t.kind == tName && !reserved[t.text]) {
		return t.text
	}
	p.fail(t, "expected a name but found %s", describe(t))
	return ""
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxNesting {
		p.fail(p.peek(), "expression nested too deeply")
	}
}

func (p *parser) leave() { p.depth-- }

// expr := if | for | some/every | function | disjunction
func (p *parser) expr() node {
	p.enter()
	defer p.leave()
	if t := p.peek(); t.kind == tName {
		switch t.text {
		case "if":
			p.next()
			c := p.expr()
			p.expectName("then")
			th := p.expr()
			p.expectName("else")
			return &ifNode{c, th, p.expr()}
		case "for":
			p.next()
			iters := p.iterators(true)
			p.expectName("return")
			return &forNode{iters, p.expr()}
		case "some", "every":
			p.next()
			iters := p.iterators(false)
			p.expectName("satisfies")
			return &quantNode{every: t.text == "every", iters: iters, cond: p.expr()}
		case "function":
			if p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
				return p.lambda()
			}
		}
	}
	return p.disjunction()
}

// iterators := name 'in' expr ['..' expr] {',' …}; ranges only for 'for'.
func (p *parser) iterators(ranges bool) []iterator {
	var its []iterator
	for {
		it := iterator{name: p.variableName()}
		p.expectName("in")
		it.domain = p.expr()
		if p.isPunct("..") {
			if !ranges {
				p.fail(p.peek(), "a range is only supported in 'for' and after 'in'")
			}
			p.next()
			it.end = p.expr()
		}
		its = append(its, it)
		if !p.isPunct(",") {
			return its
		}
		p.next()
	}
}

func (p *parser) lambda() node {
	p.next() // function
	p.expectPunct("(")
	var params []string
	if !p.isPunct(")") {
		for {
			params = append(params, p.variableName())
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	p.expectPunct(")")
	return &lambdaNode{params: params, body: p.expr()}
}

func (p *parser) disjunction() node {
	n := p.conjunction()
	for p.isName("or") {
		p.next()
		n = &orNode{n, p.conjunction()}
	}
	return n
}

func (p *parser) conjunction() node {
	n := p.comparison()
	for p.isName("and") {
		p.next()
		n = &andNode{n, p.comparison()}
	}
	return n
}

var cmpOps = map[string]opcode{"=": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

func (p *parser) comparison() node {
	n := p.additive()
	for {
		t := p.peek()
		if t.kind == tPunct {
			op, ok := cmpOps[t.text]
			if !ok {
				return n
			}
			p.next()
			n = &cmpNode{op, n, p.additive()}
			continue
		}
		if t.kind != tName {
			return n
		}
		switch t.text {
		case "between":
			p.next()
			lo := p.additive()
			p.expectName("and")
			n = &betweenNode{n, lo, p.additive()}
		case "in":
			p.next()
			n = &inNode{n, p.inTests()}
		case "instance":
			p.next()
			p.expectName("of")
			n = &instanceNode{n, p.typeName()}
		default:
			return n
		}
	}
}

func (p *parser) typeName() string {
	for _, words := range typeNames {
		if p.matchWords(words, false) {
			p.i += len(words)
			return strings.Join(words, " ")
		}
	}
	p.fail(p.peek(), "unsupported type %s after 'instance of'", describe(p.peek()))
	return ""
}

// matchWords reports whether the next tokens are the given words (and, if
// call is set, are followed by '(').
func (p *parser) matchWords(words []string, call bool) bool {
	for k, w := range words {
		t := p.peekAt(k)
		if t.kind != tName || t.text != w {
			return false
		}
	}
	if call {
		t := p.peekAt(len(words))
		return t.kind == tPunct && t.text == "("
	}
	return true
}

// inTests parses what follows 'in': one positive unary test, or a
// parenthesised, comma-separated list of them.
func (p *parser) inTests() []unaryTest {
	if p.isPunct("(") {
		if t, ok := p.tryInterval(); ok {
			return []unaryTest{t}
		}
		p.next()
		tests := []unaryTest{p.unaryTest(true)}
		for p.isPunct(",") {
			p.next()
			tests = append(tests, p.unaryTest(true))
		}
		p.expectPunct(")")
		return tests
	}
	return []unaryTest{p.unaryTest(false)}
}

// unaryTest := ('<'|'<='|'>'|'>='|'='|'!=') endpoint | interval | expression.
// Outside parentheses the expression stops before 'and'/'or', so that
// "x in [1,2] and y" groups as "(x in [1,2]) and y".
func (p *parser) unaryTest(inParens bool) unaryTest {
	if t := p.peek(); t.kind == tPunct {
		if op, ok := cmpOps[t.text]; ok {
			p.next()
			return unaryTest{op: op, e: p.additive()}
		}
	}
	if t, ok := p.tryInterval(); ok {
		return t
	}
	if inParens {
		return unaryTest{op: opIn, e: p.expr()}
	}
	return unaryTest{op: opIn, e: p.additive()}
}

// tryInterval parses "(a..b)", "[a..b]", "]a..b[" and mixed forms, or
// leaves the position unchanged and returns false.
func (p *parser) tryInterval() (t unaryTest, ok bool) {
	open := p.peek()
	if open.kind != tPunct || (open.text != "(" && open.text != "[" && open.text != "]") {
		return unaryTest{}, false
	}
	if !p.rangeAhead() {
		return unaryTest{}, false
	}
	// The scan can be fooled by a range inside the endpoint (for i in 1..3),
	// so confirm by parsing, and back out if it was not a range after all.
	save := p.i
	ok = p.try(func() {
		p.next()
		t.lo = p.expr()
	}) && p.isPunct("..")
	if !ok {
		p.i = save
		return unaryTest{}, false
	}
	p.next() // ..
	// "]1..5[" and "[1..5[" end with '[', which would otherwise start a
	// filter on the upper endpoint: if the plain parse fails, parse the
	// endpoint again without filters.
	afterDots := p.i
	if !p.try(func() { t.hi = p.expr(); p.expectRangeEnd() }) {
		p.i = afterDots
		p.noFilter = true
		t.hi = p.expr()
		p.noFilter = false
	} else {
		p.i--
	}
	closing := p.next()
	if closing.kind != tPunct || (closing.text != ")" && closing.text != "]" && closing.text != "[") {
		p.fail(closing, "expected ')', ']' or '[' to close the range but found %s", describe(closing))
	}
	t.op = opRange
	t.loOpen = open.text != "["
	t.hiOpen = closing.text != "]"
	return t, true
}

// rangeAhead scans (without parsing) from the bracket at the current
// position for a '..' at nesting depth 1, before the bracket closes or a ','
// separates list elements. It keeps "x in [1, 2]" and nested lists linear.
func (p *parser) rangeAhead() bool {
	depth := 1
	for k := p.i + 1; k < len(p.toks); k++ {
		t := p.toks[k]
		if t.kind == tEOF {
			return false
		}
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return false
			}
		case ",":
			if depth == 1 {
				return false
			}
		case "..":
			if depth == 1 {
				return true
			}
		}
	}
	return false
}

func (p *parser) additive() node {
	n := p.multiplicative()
	for p.isPunct("+") || p.isPunct("-") {
		op := opAdd
		if p.next().text == "-" {
			op = opSub
		}
		n = &arithNode{op, n, p.multiplicative()}
	}
	return n
}

func (p *parser) multiplicative() node {
	n := p.power()
	for p.isPunct("*") || p.isPunct("/") {
		op := opMul
		if p.next().text == "/" {
			op = opDiv
		}
		n = &arithNode{op, n, p.power()}
	}
	return n
}

func (p *parser) power() node {
	n := p.unary()
	for p.isPunct("**") {
		p.next()
		n = &arithNode{opPow, n, p.unary()}
	}
	return n
}

func (p *parser) unary() node {
	if p.isPunct("-") {
		p.enter()
		defer p.leave()
		p.next()
		x := p.unary()
		// Fold negative literals so that "-2" is a constant (and a filter index).
		if lit, ok := x.(*litNode); ok {
			if n, ok := lit.v.(Number); ok {
				return &litNode{n.Neg()}
			}
		}
		return &negNode{x}
	}
	return p.postfix()
}

func (p *parser) postfix() node {
	n := p.primary()
	for {
		t := p.peek()
		if t.kind != tPunct {
			return n
		}
		switch t.text {
		case ".":
			p.next()
			k := p.next()
			if k.kind != tName && k.kind != tQName {
				p.fail(k, "expected a name after '.' but found %s", describe(k))
			}
			n = &pathNode{n, k.text}
		case "[":
			if p.noFilter {
				return n
			}
			p.next()
			cond := p.expr()
			p.expectPunct("]")
			n = newFilter(n, cond)
		case "(":
			n = &invokeNode{n, p.args()}
		default:
			return n
		}
	}
}

func (p *parser) args() []node {
	p.expectPunct("(")
	var args []node
	if p.isPunct(")") {
		p.next()
		return args
	}
	for {
		if t := p.peek(); (t.kind == tName || t.kind == tQName) && p.peekAt(1).kind == tPunct && p.peekAt(1).text == ":" {
			p.fail(t, "named parameters are not supported")
		}
		args = append(args, p.expr())
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expectPunct(")")
	return args
}

func (p *parser) primary() node {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.next()
		n, err := ParseNumber(t.text)
		if err != nil {
			p.fail(t, "invalid number '%s'", t.text)
		}
		return &litNode{n}
	case tString:
		p.next()
		return &litNode{t.text}
	case tQName:
		p.next()
		if p.isPunct("(") {
			return p.call(t.text)
		}
		return &nameNode{t.text}
	case tName:
		switch t.text {
		case "true", "false":
			p.next()
			return &litNode{t.text == "true"}
		case "null":
			p.next()
			return &litNode{nil}
		}
		for _, words := range multiWordFunctions {
			if words[0] == t.text && p.matchWords(words, true) {
				p.i += len(words)
				return p.call(strings.Join(words, " "))
			}
		}
		if reserved[t.text] {
			p.fail(t, "unexpected %s", describe(t))
		}
		p.next()
		if p.isPunct("(") {
			return p.call(t.text)
		}
		return &nameNode{t.text}
	case tPunct:
		switch t.text {
		case "(":
			p.next()
			n := p.expr()
			p.expectPunct(")")
			return n
		case "[":
			return p.list()
		case "{":
			return p.context()
		case "@":
			p.next()
			s := p.next()
			if s.kind != tString {
				p.fail(s, "expected a string after '@' but found %s", describe(s))
			}
			v, err := parseTemporal(s.text)
			if err != nil {
				p.fail(s, "%v", err)
			}
			return &litNode{v}
		}
	}
	p.fail(t, "unexpected %s", describe(t))
	return nil
}

func (p *parser) call(name string) node {
	return &callNode{name: name, fn: builtins[name], args: p.args()}
}

func (p *parser) list() node {
	p.enter()
	defer p.leave()
	p.expectPunct("[")
	l := &listNode{}
	if p.isPunct("]") {
		p.next()
		return l
	}
	for {
		l.items = append(l.items, p.expr())
		if p.isPunct("..") {
			p.fail(p.peek(), "a range is only supported in 'for' and after 'in'")
		}
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expectPunct("]")
	return l
}

func (p *parser) context() node {
	p.enter()
	defer p.leave()
	p.expectPunct("{")
	c := &ctxNode{}
	if p.isPunct("}") {
		p.next()
		return c
	}
	for {
		k := p.next()
		if k.kind != tName && k.kind != tQName && k.kind != tString {
			p.fail(k, "expected a context key but found %s", describe(k))
		}
		p.expectPunct(":")
		c.keys = append(c.keys, k.text)
		c.vals = append(c.vals, p.expr())
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expectPunct("}")
	return c
}
