package dmn

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// EvaluatedInput is a table input's value in one evaluation.
type EvaluatedInput struct {
	ID, Name string
	Value    any
}

// EvaluatedOutput is a matched rule's output value.
type EvaluatedOutput struct {
	ID, Name string
	Value    any
}

// MatchedRule is a rule that matched, Index counting from 1.
type MatchedRule struct {
	ID      string
	Index   int
	Outputs []EvaluatedOutput
}

// Evaluated is one decision's evaluation: the called one, or one it requires.
type Evaluated struct {
	Decision *Decision
	Output   any
	Inputs   []EvaluatedInput
	Matched  []MatchedRule
}

// Result is the evaluation of a decision and of the decisions it requires,
// in the order they were evaluated. Failure is set when it failed; Failed is
// then the decision that failed.
type Result struct {
	Output    any
	Decisions []Evaluated
	Failed    *Decision
	Failure   string
}

var aggregations = map[string]*feel.Expression{}

func init() {
	for name, src := range map[string]string{"SUM": "sum(values)", "MIN": "min(values)", "MAX": "max(values)", "COUNT": "count(values)"} {
		e, err := feel.Parse(src)
		if err != nil {
			panic(err) // constant sources
		}
		aggregations[name] = e
	}
}

// Evaluate evaluates the decision id with the variables, at now (FEEL's now()).
func (d *Definitions) Evaluate(id string, vars feel.Lookup, now time.Time) *Result {
	res := &Result{}
	done := map[string]any{}
	lookup := func(name string) (any, bool) {
		if v, ok := done[name]; ok {
			return v, true
		}
		return vars(name)
	}
	var eval func(dec *Decision) bool
	eval = func(dec *Decision) bool {
		if _, ok := done[dec.ID]; ok {
			return true
		}
		for _, r := range dec.Requires {
			if !eval(d.Decision(r)) {
				return false
			}
		}
		ev := Evaluated{Decision: dec}
		var err error
		if dec.Literal != nil {
			ev.Output = dec.Literal.EvalAt(lookup, now).Value
		} else {
			err = evalTable(dec.Table, lookup, now, &ev)
		}
		res.Decisions = append(res.Decisions, ev)
		if err != nil {
			res.Failed, res.Failure = dec, err.Error()
			return false
		}
		done[dec.ID] = ev.Output
		return true
	}
	dec := d.Decision(id)
	if dec == nil {
		res.Failure = fmt.Sprintf("no decision found for id '%s'", id)
		return res
	}
	if eval(dec) {
		res.Output = done[dec.ID]
	}
	return res
}

func evalTable(t *Table, lookup feel.Lookup, now time.Time, ev *Evaluated) error {
	values := make([]any, len(t.Inputs))
	for i, in := range t.Inputs {
		values[i] = in.Expr.EvalAt(lookup, now).Value
		ev.Inputs = append(ev.Inputs, EvaluatedInput{ID: in.ID, Name: in.Name, Value: values[i]})
	}
	var results []any // one per matched rule: the value, or a context of the outputs
	for ri, r := range t.Rules {
		if !matches(r, values, lookup, now) {
			continue
		}
		m := MatchedRule{ID: r.ID, Index: ri + 1}
		ctx := map[string]any{}
		var single any
		for oi, oe := range r.Outputs {
			var v any
			if oe != nil {
				v = oe.EvalAt(lookup, now).Value
			}
			m.Outputs = append(m.Outputs, EvaluatedOutput{ID: t.Outputs[oi].ID, Name: t.Outputs[oi].Name, Value: v})
			ctx[t.Outputs[oi].Name] = v
			single = v
		}
		ev.Matched = append(ev.Matched, m)
		if len(t.Outputs) == 1 {
			results = append(results, single)
		} else {
			results = append(results, ctx)
		}
		if t.HitPolicy == "FIRST" {
			break // the rules after the first match are not evaluated
		}
	}
	out, err := hit(t, ev, results, now)
	ev.Output = out
	return err
}

func matches(r Rule, values []any, lookup feel.Lookup, now time.Time) bool {
	for i, test := range r.Tests {
		if test == nil {
			continue
		}
		v := values[i]
		ok := test.EvalAt(func(name string) (any, bool) {
			if name == testInput {
				return v, true
			}
			return lookup(name)
		}, now).Value
		if ok != true {
			return false
		}
	}
	return true
}

func ruleIDs(ms []MatchedRule) string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return "[" + strings.Join(ids, ", ") + "]"
}

// hit applies the table's hit policy to the matched rules' results.
func hit(t *Table, ev *Evaluated, results []any, now time.Time) (any, error) {
	switch t.HitPolicy {
	case "UNIQUE":
		if len(results) > 1 {
			return nil, fmt.Errorf("the hit policy UNIQUE allows one matching rule, but the rules %s matched", ruleIDs(ev.Matched))
		}
	case "ANY":
		for _, r := range results[min(1, len(results)):] {
			if !equal(r, results[0]) {
				return nil, fmt.Errorf("the hit policy ANY needs the matching rules to have equal outputs, but the rules %s have different ones", ruleIDs(ev.Matched))
			}
		}
	case "PRIORITY", "OUTPUT ORDER":
		order := make([]int, len(results))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return less(t, ev.Matched[order[a]], ev.Matched[order[b]]) })
		sorted := make([]any, len(results))
		for i, o := range order {
			sorted[i] = results[o]
		}
		if t.HitPolicy == "OUTPUT ORDER" {
			return sorted, nil
		}
		results = sorted
	case "RULE ORDER":
		return append([]any{}, results...), nil
	case "COLLECT":
		if t.Aggregation == "" {
			return append([]any{}, results...), nil
		}
		var vals []any
		for _, r := range results {
			if r != nil {
				vals = append(vals, r)
			}
		}
		if len(vals) == 0 && t.Aggregation != "COUNT" {
			return nil, nil
		}
		if vals == nil {
			vals = []any{}
		}
		return aggregations[t.Aggregation].EvalAt(func(name string) (any, bool) {
			return vals, name == "values"
		}, now).Value, nil
	}
	if len(results) == 0 {
		return nil, nil
	}
	return results[0], nil
}

// less orders two matched rules by their outputs' positions in the
// outputs' value lists, the first output first.
func less(t *Table, a, b MatchedRule) bool {
	for i, o := range t.Outputs {
		pa, pb := priority(o.Values, a.Outputs[i].Value), priority(o.Values, b.Outputs[i].Value)
		if pa != pb {
			return pa < pb
		}
	}
	return false
}

func priority(list []any, v any) int {
	for i, x := range list {
		if equal(x, v) {
			return i
		}
	}
	return len(list)
}

func equal(a, b any) bool {
	ja, errA := feel.ToJSON(a)
	jb, errB := feel.ToJSON(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
