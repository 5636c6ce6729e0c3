package dmn

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// table builds a one-decision DMN with a table of input "amount" and output
// "result", one rule per [test, output] pair.
func table(hitPolicy, aggregation, outputValues string, rules ...[2]string) []byte {
	var rs strings.Builder
	for i, r := range rules {
		esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
		fmt.Fprintf(&rs, `<rule id="r%d"><inputEntry><text>%s</text></inputEntry><outputEntry><text>%s</text></outputEntry></rule>`, i+1, esc.Replace(r[0]), esc.Replace(r[1]))
	}
	attrs := ""
	if hitPolicy != "" {
		attrs += ` hitPolicy="` + hitPolicy + `"`
	}
	if aggregation != "" {
		attrs += ` aggregation="` + aggregation + `"`
	}
	ov := ""
	if outputValues != "" {
		ov = `<outputValues><text>` + outputValues + `</text></outputValues>`
	}
	return []byte(`<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="drg" name="DRG" namespace="ns">
		<decision id="d" name="D"><decisionTable` + attrs + `>
			<input id="i1" label="Amount"><inputExpression typeRef="number"><text>amount</text></inputExpression></input>
			<output id="o1" name="result" typeRef="string">` + ov + `</output>` + rs.String() + `</decisionTable></decision></definitions>`)
}

func vars(m map[string]any) feel.Lookup {
	return func(name string) (any, bool) {
		v, ok := m[name]
		if !ok {
			return nil, false
		}
		raw, err := feel.ToJSON(v)
		if err != nil {
			return nil, false
		}
		x, err := feel.FromJSON(raw)
		return x, err == nil
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := feel.ToJSON(v)
	require.NoError(t, err)
	return string(b)
}

func TestHitPolicies(t *testing.T) {
	rules := [][2]string{{"< 10", `"low"`}, {"[5..20]", `"mid"`}, {"-", `"any"`}}
	nums := [][2]string{{"< 10", "1"}, {"< 20", "2"}, {"-", "4"}}
	tests := []struct {
		name, hitPolicy, aggregation, values string
		rules                                [][2]string
		amount                               int
		want                                 string
		matched                              []int
		failure                              string
	}{
		{"unique, one match", "", "", "", [][2]string{{"< 10", `"low"`}, {">= 10", `"high"`}}, 12, `"high"`, []int{2}, ""},
		{"unique, no match", "UNIQUE", "", "", [][2]string{{"< 10", `"low"`}}, 12, "null", nil, ""},
		{"unique, two matches", "UNIQUE", "", "", rules, 7, "null", []int{1, 2, 3}, "the hit policy UNIQUE allows one matching rule, but the rules [r1, r2, r3] matched"},
		{"first", "FIRST", "", "", rules, 7, `"low"`, []int{1}, ""},
		{"any, equal outputs", "ANY", "", "", [][2]string{{"< 10", `"x"`}, {"-", `"x"`}}, 3, `"x"`, []int{1, 2}, ""},
		{"any, different outputs", "ANY", "", "", rules, 3, "null", []int{1, 3}, "the hit policy ANY needs the matching rules to have equal outputs, but the rules [r1, r3] have different ones"},
		{"priority", "PRIORITY", "", `"mid","any","low"`, rules, 7, `"mid"`, []int{1, 2, 3}, ""},
		{"output order", "OUTPUT ORDER", "", `"mid","any","low"`, rules, 7, `["mid","any","low"]`, []int{1, 2, 3}, ""},
		{"rule order", "RULE ORDER", "", "", rules, 7, `["low","mid","any"]`, []int{1, 2, 3}, ""},
		{"collect", "COLLECT", "", "", rules, 15, `["mid","any"]`, []int{2, 3}, ""},
		{"collect sum", "COLLECT", "SUM", "", nums, 5, "7", []int{1, 2, 3}, ""},
		{"collect min", "COLLECT", "MIN", "", nums, 15, "2", []int{2, 3}, ""},
		{"collect max", "COLLECT", "MAX", "", nums, 5, "4", []int{1, 2, 3}, ""},
		{"collect count", "COLLECT", "COUNT", "", nums, 15, "2", []int{2, 3}, ""},
		{"collect count, no match", "COLLECT", "COUNT", "", [][2]string{{"< 0", "1"}}, 15, "0", nil, ""},
		{"collect sum, no match", "COLLECT", "SUM", "", [][2]string{{"< 0", "1"}}, 15, "null", nil, ""},
		{"not and lists", "FIRST", "", "", [][2]string{{"not(1, 2)", `"other"`}, {"-", `"one or two"`}}, 2, `"one or two"`, []int{2}, ""},
		{"an expression over ?", "RULE ORDER", "", "", [][2]string{{"? > 3 and ? < 5", `"four"`}, {`string(?) = "4"`, `"text"`}, {`odd(?)`, `"odd"`}}, 4, `["four","text"]`, []int{1, 2}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(table(tc.hitPolicy, tc.aggregation, tc.values, tc.rules...))
			require.NoError(t, err)
			res := d.Evaluate("d", vars(map[string]any{"amount": tc.amount}), time.Time{})
			assert.Equal(t, tc.failure, res.Failure)
			assert.Equal(t, tc.want, jsonOf(t, res.Output))
			require.Len(t, res.Decisions, 1)
			var matched []int
			for _, m := range res.Decisions[0].Matched {
				matched = append(matched, m.Index)
			}
			assert.Equal(t, tc.matched, matched)
			assert.Equal(t, []EvaluatedInput{{ID: "i1", Name: "Amount", Value: res.Decisions[0].Inputs[0].Value}}, res.Decisions[0].Inputs)
			assert.Equal(t, fmt.Sprint(tc.amount), jsonOf(t, res.Decisions[0].Inputs[0].Value))
		})
	}
}

func TestRequiredDecisionsAndLiteralExpressions(t *testing.T) {
	d, err := Parse([]byte(`<definitions xmlns="http://www.omg.org/spec/DMN/20180521/MODEL/" id="drg" name="DRG">
		<decision id="discount" name="Discount">
			<informationRequirement><requiredDecision href="#tier"/></informationRequirement>
			<literalExpression><text>if tier = "gold" then price * 0.9 else price</text></literalExpression>
		</decision>
		<decision id="tier" name="Tier"><decisionTable hitPolicy="FIRST">
			<input id="in"><inputExpression><text>orders</text></inputExpression></input>
			<output id="out1" name="tier"/>
			<rule id="gold"><inputEntry><text>&gt;= 10</text></inputEntry><outputEntry><text>"gold"</text></outputEntry></rule>
			<rule id="basic"><inputEntry><text></text></inputEntry><outputEntry><text>"basic"</text></outputEntry></rule>
		</decisionTable></decision></definitions>`))
	require.NoError(t, err)
	for _, tc := range []struct {
		orders int
		want   string
	}{{12, "90"}, {3, "100"}} {
		res := d.Evaluate("discount", vars(map[string]any{"orders": tc.orders, "price": 100}), time.Time{})
		assert.Empty(t, res.Failure)
		assert.Equal(t, tc.want, jsonOf(t, res.Output))
		require.Len(t, res.Decisions, 2)
		assert.Equal(t, []string{"tier", "discount"}, []string{res.Decisions[0].Decision.ID, res.Decisions[1].Decision.ID})
		assert.Equal(t, []string{"DECISION_TABLE", "LITERAL_EXPRESSION"}, []string{res.Decisions[0].Decision.Type(), res.Decisions[1].Decision.Type()})
	}
	assert.Equal(t, "no decision found for id 'nope'", d.Evaluate("nope", vars(nil), time.Time{}).Failure)
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ name, xml, want string }{
		{"bad FEEL", `<definitions id="x"><decision id="d"><literalExpression><text>1 +</text></literalExpression></decision></definitions>`,
			"Decision 'd': invalid FEEL in the literal expression '1 +'"},
		{"unknown required decision", `<definitions id="x"><decision id="d"><informationRequirement><requiredDecision href="#e"/></informationRequirement><literalExpression><text>1</text></literalExpression></decision></definitions>`,
			"Decision 'd': the required decision 'e' is not in the resource"},
		{"a cycle", `<definitions id="x"><decision id="d"><informationRequirement><requiredDecision href="#e"/></informationRequirement><literalExpression><text>1</text></literalExpression></decision>` +
			`<decision id="e"><informationRequirement><requiredDecision href="#d"/></informationRequirement><literalExpression><text>1</text></literalExpression></decision></definitions>`,
			"The required decisions form a cycle"},
		{"priority without output values", string(table("PRIORITY", "", "", [2]string{"-", "1"})), "Decision 'd': the hit policy PRIORITY needs the output values"},
		{"an aggregation without collect", string(table("FIRST", "SUM", "", [2]string{"-", "1"})), "Decision 'd': an aggregation is only allowed with the hit policy COLLECT"},
		{"bad FEEL in an input entry", string(table("FIRST", "", "", [2]string{"? >", "1"})), "Decision 'd': invalid FEEL in an input entry"},
		{"no decision", `<definitions id="x"/>`, "The DMN resource must contain at least one decision"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.xml))
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A table with several outputs gives a context per rule, keyed by the
// outputs' names; an empty output entry is null.
func TestSeveralOutputs(t *testing.T) {
	d, err := Parse([]byte(`<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="drg"><decision id="d" name="D">
		<decisionTable hitPolicy="COLLECT">
			<input id="i"><inputExpression><text>n</text></inputExpression></input>
			<output id="a" name="size"/><output id="b" name="note"/>
			<rule id="r1"><inputEntry><text>&lt; 10</text></inputEntry><outputEntry><text>"small"</text></outputEntry><outputEntry><text></text></outputEntry></rule>
			<rule id="r2"><inputEntry><text>-</text></inputEntry><outputEntry><text>"any"</text></outputEntry><outputEntry><text>n * 2</text></outputEntry></rule>
		</decisionTable></decision></definitions>`))
	require.NoError(t, err)
	res := d.Evaluate("d", vars(map[string]any{"n": 3}), time.Time{})
	assert.Empty(t, res.Failure)
	assert.Equal(t, `[{"note":null,"size":"small"},{"note":6,"size":"any"}]`, jsonOf(t, res.Output))
	require.Len(t, res.Decisions[0].Matched, 2)
	assert.Equal(t, []string{"size", "note"}, []string{res.Decisions[0].Matched[1].Outputs[0].Name, res.Decisions[0].Matched[1].Outputs[1].Name})

	_, err = Parse([]byte(`<definitions id="drg"><decision id="d"><decisionTable><input id="i"><inputExpression><text>n</text></inputExpression></input>
		<output id="a"/><output id="b" name="x"/></decisionTable></decision></definitions>`))
	require.Error(t, err)
	assert.Equal(t, "Decision 'd': output 'a' must have a name when the table has several outputs", err.Error())
}
