// Package dmn parses DMN resources and evaluates their decisions with the
// local engine's FEEL, as Zeebe 8.5 does for business rule tasks and the
// EvaluateDecision RPC: decision tables (hit policies UNIQUE, FIRST,
// PRIORITY, ANY, COLLECT with or without SUM, MIN, MAX or COUNT, RULE ORDER,
// OUTPUT ORDER) and literal expressions, and required decisions, whose
// results are visible to the decisions that require them by their ids.
//
// Input entries are FEEL unary tests: "-" (or empty) matches anything; an
// entry using "?" (the input value) is a boolean expression that matches
// when true; otherwise the entry is tested as the input value "in
// (<entry>)", so comparisons (< 5), intervals ([1..5]), lists of values
// ("a","b") and not(...) work.
package dmn

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// Definitions is one parsed DMN resource: a decision requirements graph.
type Definitions struct {
	ID, Name, Namespace string
	Decisions           []*Decision // document order
}

// Decision is a decision table or a literal expression.
type Decision struct {
	ID, Name string
	Requires []string // ids of required decisions
	Table    *Table
	Literal  *feel.Expression // a literal expression decision
}

// Type is the decisionType Zeebe writes for the decision.
func (d *Decision) Type() string {
	if d.Table != nil {
		return "DECISION_TABLE"
	}
	return "LITERAL_EXPRESSION"
}

// Table is a decision table.
type Table struct {
	HitPolicy   string // UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE ORDER, OUTPUT ORDER
	Aggregation string // COLLECT only: SUM, MIN, MAX, COUNT or ""
	Inputs      []Input
	Outputs     []Output
	Rules       []Rule
}

// Input is a table input column.
type Input struct {
	ID, Name string
	Expr     *feel.Expression
}

// Output is a table output column; Values are its outputValues in
// priority order (PRIORITY, OUTPUT ORDER), nil when absent.
type Output struct {
	ID, Name string
	Values   []any
}

// Rule is a table row: one unary test per input (nil matches anything) and
// one expression per output (nil is null).
type Rule struct {
	ID      string
	Tests   []*feel.Expression
	Outputs []*feel.Expression
}

// ValidationError lists every problem found in a DMN resource.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// testInput names the input value inside a compiled unary test; models do
// not use names like it.
const testInput = "__dmnInputValue"

type xText struct {
	Text string `xml:"text"`
}

type xDefinitions struct {
	XMLName   xml.Name    `xml:"definitions"`
	ID        string      `xml:"id,attr"`
	Name      string      `xml:"name,attr"`
	Namespace string      `xml:"namespace,attr"`
	Decisions []xDecision `xml:"decision"`
}

type xDecision struct {
	ID       string `xml:"id,attr"`
	Name     string `xml:"name,attr"`
	Requires []struct {
		Decision struct {
			Href string `xml:"href,attr"`
		} `xml:"requiredDecision"`
	} `xml:"informationRequirement"`
	Table *struct {
		HitPolicy   string `xml:"hitPolicy,attr"`
		Aggregation string `xml:"aggregation,attr"`
		Inputs      []struct {
			ID    string `xml:"id,attr"`
			Label string `xml:"label,attr"`
			Expr  xText  `xml:"inputExpression"`
		} `xml:"input"`
		Outputs []struct {
			ID     string `xml:"id,attr"`
			Name   string `xml:"name,attr"`
			Label  string `xml:"label,attr"`
			Values *xText `xml:"outputValues"`
		} `xml:"output"`
		Rules []struct {
			ID      string  `xml:"id,attr"`
			Inputs  []xText `xml:"inputEntry"`
			Outputs []xText `xml:"outputEntry"`
		} `xml:"rule"`
	} `xml:"decisionTable"`
	Literal *xText `xml:"literalExpression"`
}

// Parse parses and validates a DMN resource; every FEEL expression is
// compiled, so a syntax error fails the deployment.
func Parse(data []byte) (*Definitions, error) {
	var x xDefinitions
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, &ValidationError{Problems: []string{"Malformed DMN: " + err.Error()}}
	}
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	d := &Definitions{ID: x.ID, Name: x.Name, Namespace: x.Namespace}
	if d.ID == "" {
		add("The decision requirements graph (definitions) must have an id")
	}
	if len(x.Decisions) == 0 {
		add("The DMN resource must contain at least one decision")
	}
	ids := map[string]bool{}
	for _, xd := range x.Decisions {
		dec := &Decision{ID: xd.ID, Name: xd.Name}
		if dec.ID == "" {
			add("A decision must have an id")
			continue
		}
		if ids[dec.ID] {
			add("Decision '%s': the id is used by more than one decision", dec.ID)
		}
		ids[dec.ID] = true
		for _, r := range xd.Requires {
			if h := strings.TrimPrefix(r.Decision.Href, "#"); h != "" {
				dec.Requires = append(dec.Requires, h)
			}
		}
		where := "Decision '" + dec.ID + "'"
		compile := func(what, src string) *feel.Expression {
			e, err := feel.Parse(src)
			if err != nil {
				add("%s: invalid FEEL in %s '%s': %v", where, what, src, err)
			}
			return e
		}
		switch {
		case xd.Table != nil:
			t := xd.Table
			tb := &Table{HitPolicy: strings.ToUpper(strings.TrimSpace(t.HitPolicy)), Aggregation: strings.ToUpper(strings.TrimSpace(t.Aggregation))}
			if tb.HitPolicy == "" {
				tb.HitPolicy = "UNIQUE"
			}
			switch tb.HitPolicy {
			case "UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER":
			default:
				add("%s: hit policy '%s' is not supported", where, tb.HitPolicy)
			}
			switch {
			case tb.Aggregation == "":
			case tb.HitPolicy != "COLLECT":
				add("%s: an aggregation is only allowed with the hit policy COLLECT", where)
			case tb.Aggregation != "SUM" && tb.Aggregation != "MIN" && tb.Aggregation != "MAX" && tb.Aggregation != "COUNT":
				add("%s: aggregation '%s' is not supported", where, tb.Aggregation)
			}
			for _, in := range t.Inputs {
				name := in.Label
				if name == "" {
					name = strings.TrimSpace(in.Expr.Text)
				}
				tb.Inputs = append(tb.Inputs, Input{ID: in.ID, Name: name, Expr: compile("the input expression", strings.TrimSpace(in.Expr.Text))})
			}
			for _, out := range t.Outputs {
				o := Output{ID: out.ID, Name: out.Name}
				if o.Name == "" {
					o.Name = out.Label
				}
				if len(t.Outputs) > 1 && out.Name == "" {
					add("%s: output '%s' must have a name when the table has several outputs", where, out.ID)
				}
				if out.Values != nil && strings.TrimSpace(out.Values.Text) != "" {
					if e := compile("the output values", "["+out.Values.Text+"]"); e != nil {
						if l, ok := e.Eval(func(string) (any, bool) { return nil, false }).Value.([]any); ok {
							o.Values = l
						}
					}
				}
				tb.Outputs = append(tb.Outputs, o)
			}
			if (tb.HitPolicy == "PRIORITY" || tb.HitPolicy == "OUTPUT ORDER") && (len(tb.Outputs) == 0 || tb.Outputs[0].Values == nil) {
				add("%s: the hit policy %s needs the output values (outputValues) of the outputs, in priority order", where, tb.HitPolicy)
			}
			if tb.Aggregation != "" && len(tb.Outputs) != 1 {
				add("%s: an aggregation needs exactly one output", where)
			}
			for i, r := range t.Rules {
				rule := Rule{ID: r.ID}
				if len(r.Inputs) != len(tb.Inputs) || len(r.Outputs) != len(tb.Outputs) {
					add("%s: rule %d must have one input entry per input and one output entry per output", where, i+1)
					continue
				}
				for _, ie := range r.Inputs {
					rule.Tests = append(rule.Tests, compileTest(ie.Text, func(src string) *feel.Expression {
						return compile("an input entry", src)
					}))
				}
				for _, oe := range r.Outputs {
					var e *feel.Expression
					if s := strings.TrimSpace(oe.Text); s != "" {
						e = compile("an output entry", s)
					}
					rule.Outputs = append(rule.Outputs, e)
				}
				tb.Rules = append(tb.Rules, rule)
			}
			dec.Table = tb
		case xd.Literal != nil:
			dec.Literal = compile("the literal expression", strings.TrimSpace(xd.Literal.Text))
		default:
			add("%s: only decision tables and literal expressions are supported", where)
		}
		d.Decisions = append(d.Decisions, dec)
	}
	for _, dec := range d.Decisions {
		for _, r := range dec.Requires {
			if !ids[r] {
				add("Decision '%s': the required decision '%s' is not in the resource", dec.ID, r)
			}
		}
	}
	if len(probs) == 0 && hasCycle(d) {
		add("The required decisions form a cycle")
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return d, nil
}

// compileTest compiles an input entry into a boolean expression over the input value.
func compileTest(text string, compile func(string) *feel.Expression) *feel.Expression {
	s := strings.TrimSpace(text)
	if s == "" || s == "-" {
		return nil
	}
	if q, ok := replaceInputValue(s); ok {
		// An expression over '?' (the input value) matches when it is true.
		return compile(q)
	}
	if inner, ok := strings.CutPrefix(s, "not("); ok && strings.HasSuffix(inner, ")") {
		return compile("not(" + testInput + " in (" + strings.TrimSuffix(inner, ")") + "))")
	}
	return compile(testInput + " in (" + s + ")")
}

// replaceInputValue writes the input value's name for each '?' outside
// string literals; ok is false when there is none.
func replaceInputValue(s string) (string, bool) {
	var b strings.Builder
	inString, found := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && c == '\\' && i+1 < len(s):
			b.WriteByte(c)
			i++
			c = s[i]
		case c == '"':
			inString = !inString
		case c == '?' && !inString:
			b.WriteString(testInput)
			found = true
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), found
}

func hasCycle(d *Definitions) bool {
	byID := map[string]*Decision{}
	for _, dec := range d.Decisions {
		byID[dec.ID] = dec
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case 1:
			return true
		case 2:
			return false
		}
		state[id] = 1
		for _, r := range byID[id].Requires {
			if visit(r) {
				return true
			}
		}
		state[id] = 2
		return false
	}
	for _, dec := range d.Decisions {
		if visit(dec.ID) {
			return true
		}
	}
	return false
}

// Decision returns the decision with the id, nil if none.
func (d *Definitions) Decision(id string) *Decision {
	for _, dec := range d.Decisions {
		if dec.ID == id {
			return dec
		}
	}
	return nil
}
