package conformance

import (
	"encoding/json"
	"html"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canonical re-encodes JSON with sorted keys, keeping number literals as written.
func canonical(t *testing.T, doc string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "JSON %q", doc)
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// feelModel is a service task whose single input mapping evaluates the expression into "result".
func feelModel(pid, jobType, expr string) string {
	return process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
		<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="`+jobType+`"/>
			<zeebe:ioMapping><zeebe:input source="`+html.EscapeString(expr)+`" target="result"/></zeebe:ioMapping></bpmn:extensionElements>
			<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
		<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/><bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="End"/>`)
}

// Reference §5: the FEEL subset Zeebe users rely on, and how results become
// variables. Each expression is an input mapping; the job shows the result.
func TestFEEL(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"x": 1, "items": []int{1, 2, 3}, "order": map[string]any{"total price": 5, "customer": map[string]any{"name": "Ann"}}}
	for _, tc := range []struct{ expr, want string }{
		// literals, paths, contexts
		{`= 1`, `1`},
		{`= .5`, `0.5`},
		{`= -2`, `-2`},
		{`= "valid"`, `"valid"`},
		{`= null`, `null`},
		{`= [1,2,3]`, `[1,2,3]`},
		{`= {a: 2, b: a * 2}`, `{"a":2,"b":4}`},
		{`= order.customer.name`, `"Ann"`},
		{"= order.`total price`", `5`},
		{`static text`, `"static text"`},
		// lists
		{`= [1,2,3,4][1]`, `1`},
		{`= [1,2,3,4][-1]`, `4`},
		{`= [1,2,3][5]`, `null`},
		{`= [1,2,3,4][item > 2]`, `[3,4]`},
		{`= [{a:"p1"},{a:"p2"}].a`, `["p1","p2"]`},
		{`= for i in 1..3 return i * 2`, `[2,4,6]`},
		{`= some v in items satisfies v > 2`, `true`},
		{`= every v in items satisfies v > 2`, `false`},
		// comparison and boolean logic
		{`= 1 = 1`, `true`},
		{`= x != 1`, `false`},
		{`= 5 between 1 and 10`, `true`},
		{`= "a" < "b"`, `true`},
		{`= 1 < "a"`, `null`},
		{`= true and null`, `null`},
		{`= false and null`, `false`},
		{`= true or null`, `true`},
		{`= false or null`, `null`},
		{`= not(true)`, `false`},
		{`= x instance of number`, `true`},
		// null handling
		{`= missing`, `null`},
		{`= missing = null`, `true`},
		{`= {}.y = null`, `true`},
		{`= missing.b > 10`, `null`},
		{`= "a" + 1`, `null`},
		// arithmetic and strings
		{`= 10 / 4`, `2.5`},
		{`= 2 ** 3`, `8`},
		{`= 7 - 2 * 3`, `1`},
		{`= "order-" + string(123)`, `"order-123"`},
		// built-ins
		{`= count(items)`, `3`},
		{`= append([1], 2, 3)`, `[1,2,3]`},
		{`= list contains(items, 2)`, `true`},
		{`= sum(items)`, `6`},
		{`= min(items)`, `1`},
		{`= max(items)`, `3`},
		{`= mean(items)`, `2`},
		{`= concatenate([1],[2,3])`, `[1,2,3]`},
		{`= distinct values([1,1,2])`, `[1,2]`},
		{`= flatten([[1],[2,[3]]])`, `[1,2,3]`},
		{`= sort([3,1,2], function(a,b) a < b)`, `[1,2,3]`},
		{`= string join(["a","b"], "-")`, `"a-b"`},
		{`= get or else(missing, "fallback")`, `"fallback"`},
		{`= is defined(missing)`, `false`},
		{`= is defined(x)`, `true`},
		{`= context merge({a: 1}, {b: 2})`, `{"a":1,"b":2}`},
		{`= get value({a: 1}, "a")`, `1`},
		// temporal values are stored as ISO strings
		{`= date("2024-01-31") + duration("P1D")`, `"2024-02-01"`},
		{`= duration("PT1H")`, `"PT1H"`},
		{`= cycle(3, duration("PT1H"))`, `"R3/PT1H"`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			pid, jt := uniq(t, "p"), uniq(t, "jt")
			deployXML(t, pid+".bpmn", feelModel(pid, jt, tc.expr))
			m := model{pid: pid, jt: jt}
			m.create(t, vars)
			j := awaitJob(t, jt)
			defer completeJob(t, j.GetKey())
			var got map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(j.GetVariables()), &got))
			require.Contains(t, got, "result")
			// Numbers compare by their literal: a whole number is an integer (3, not 3.0).
			assert.Equal(t, canonical(t, tc.want), canonical(t, string(got["result"])), "%s", tc.expr)
		})
	}
}
