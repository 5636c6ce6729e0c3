package feel

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// varsFromJSON builds a Lookup over the top-level entries of a JSON object.
func varsFromJSON(t testing.TB, doc string) Lookup {
	t.Helper()
	if doc == "" {
		return func(string) (any, bool) { return nil, false }
	}
	v, err := FromJSON([]byte(doc))
	require.NoError(t, err)
	m, ok := v.(map[string]any)
	require.True(t, ok, "variables must be a JSON object")
	return func(name string) (any, bool) {
		x, ok := m[name]
		return x, ok
	}
}

var fixedNow = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

type evalCase struct {
	src  string
	vars string // JSON object of variables
	want string // JSON of the result
	warn string // a warning type that must be reported ("" = none required)
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			e, err := Parse(c.src)
			require.NoError(t, err)
			res := e.EvalAt(varsFromJSON(t, c.vars), fixedNow)
			got, err := ToJSON(res.Value)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(got), "warnings: %v", res.Warnings)
			if c.warn != "" {
				var types []string
				for _, w := range res.Warnings {
					types = append(types, w.Type)
				}
				assert.Contains(t, types, c.warn, "warnings: %v", res.Warnings)
			}
		})
	}
}

func TestLiterals(t *testing.T) {
	runEvalCases(t, []evalCase{
		{src: "1", want: "1"},
		{src: ".5", want: "0.5"},
		{src: "-2", want: "-2"},
		{src: "1.25", want: "1.25"},
		{src: "1.50", want: "1.5"},
		{src: `"valid"`, want: `"valid"`},
		{src: `"a\"b\\c\n\t"`, want: `"a\"b\\c\n\t"`},
		{src: `"\u00e9\ud83d\ude00"`, want: `"é😀"`},
		{src: `"\d+"`, want: `"\\d+"`},
		{src: "true", want: "true"},
		{src: "false", want: "false"},
		{src: "null", want: "null"},
		{src: "[1,2,3]", want: "[1,2,3]"},
		{src: "[]", want: "[]"},
		{src: "{}", want: "{}"},
		{src: `{a: 1, "b": 2, c: a + 1}`, want: `{"a":1,"b":2,"c":2}`},
		{src: `{"a b": 1, ` + "`c d`" + `: 2}`, want: `{"a b":1,"c d":2}`},
		{src: "{a: 2, b: a * 2}.b", want: "4"},
		{src: "{a: {b: 1}, c: a.b + 1}.c", want: "2"},
		{src: "[1, [2, {x: null}]]", want: `[1,[2,{"x":null}]]`},
		{src: `@"2024-01-31"`, want: `"2024-01-31"`},
		{src: `@"P1D"`, want: `"P1D"`},
		{src: `@"2024-01-31T10:00:00Z"`, want: `"2024-01-31T10:00:00Z"`},
		{src: "1 // comment", want: "1"},
		{src: "1 + /* two */ 2", want: "3"},
	})
}

func TestArithmetic(t *testing.T) {
	runEvalCases(t, []evalCase{
		{src: "1 + 2", want: "3"},
		{src: "7 - 10", want: "-3"},
		{src: "1.5 * 2", want: "3"},
		{src: "10 / 4", want: "2.5"},
		{src: "6 / 3", want: "2"},
		{src: "1 / 3", want: "0.3333333333333333"},
		{src: "0.1 + 0.2", want: "0.3"},
		{src: "0.1 + 0.2 = 0.3", want: "true"},
		{src: "2251799813685249 + 1", want: "2251799813685250"},
		{src: "9007199254740993 * 1", want: "9007199254740993"},
		{src: "2 ** 10", want: "1024"},
		{src: "2 ** -1", want: "0.5"},
		{src: "4 ** 0.5", want: "2"},
		{src: "-2 ** 2", want: "4"},
		{src: "2 * 3 + 4 * 5", want: "26"},
		{src: "(2 + 3) * 4", want: "20"},
		{src: "10 - 2 - 3", want: "5"},
		{src: "-x", vars: `{"x": 3}`, want: "-3"},
		{src: "- -x", vars: `{"x": 3}`, want: "3"},
		{src: "x * 1.1", vars: `{"x": 10}`, want: "11"},
		{src: "1 / 0", want: "null", warn: WarnFailure},
		{src: `"order-" + string(123)`, want: `"order-123"`},
		{src: `"a" + "b"`, want: `"ab"`},
		{src: `"a" + 1`, want: "null", warn: WarnInvalidType},
		{src: `1 + true`, want: "null", warn: WarnInvalidType},
		{src: "1 + null", want: "null"},
		{src: "x + 1", want: "null", warn: WarnNoVariable},
		{src: `-"a"`, want: "null", warn: WarnInvalidType},
		{src: "10 ** 999999999 * 10", want: "null", warn: WarnFailure},
	})
}

func TestTemporal(t *testing.T) {
	runEvalCases(t, []evalCase{
		{src: `duration("PT1H")`, want: `"PT1H"`},
		{src: `duration("P1D")`, want: `"P1D"`},
		{src: `duration("PT36H")`, want: `"P1DT12H"`},
		{src: `duration("PT0.5S")`, want: `"PT0.5S"`},
		{src: `duration("-PT1S")`, want: `"-PT1S"`},
		{src: `duration("P1Y2M")`, want: `"P1Y2M"`},
		{src: `duration("P14M")`, want: `"P1Y2M"`},
		{src: `duration("P1Y2D")`, want: "null", warn: WarnFunctionFailure},
		{src: `duration("soon")`, want: "null", warn: WarnFunctionFailure},
		{src: `duration("PT1H") + duration("PT30M")`, want: `"PT1H30M"`},
		{src: `duration("PT1H") - duration("PT2H")`, want: `"-PT1H"`},
		{src: `duration("PT1H") * 2`, want: `"PT2H"`},
		{src: `2 * duration("PT1H")`, want: `"PT2H"`},
		{src: `duration("PT1H") / 4`, want: `"PT15M"`},
		{src: `duration("PT1H") / duration("PT15M")`, want: "4"},
		{src: `duration("P1Y") + duration("P2M")`, want: `"P1Y2M"`},
		{src: `duration("PT1H") > duration("PT30M")`, want: "true"},
		{src: `duration("P1D") = duration("PT24H")`, want: "true"},
		{src: `date("2020-01-02")`, want: `"2020-01-02"`},
		{src: `date(2020, 1, 2)`, want: `"2020-01-02"`},
		{src: `date(2021, 2, 29)`, want: "null", warn: WarnFunctionFailure},
		{src: `date("2020-13-01")`, want: "null", warn: WarnFunctionFailure},
		{src: `date(date and time("2020-01-02T10:00:00"))`, want: `"2020-01-02"`},
		{src: `date and time("2020-01-02T10:00:00Z")`, want: `"2020-01-02T10:00:00Z"`},
		{src: `date and time("2020-01-02T10:00:00.5+02:00")`, want: `"2020-01-02T10:00:00.500+02:00"`},
		{src: `date and time("2020-01-02T10:00:00")`, want: `"2020-01-02T10:00:00"`},
		{src: `date and time("2020-01-02T10:00")`, want: `"2020-01-02T10:00:00"`},
		{src: `date and time("2020-01-02T25:00:00")`, want: "null", warn: WarnFunctionFailure},
		{src: `date("2020-01-31") + duration("P1M")`, want: `"2020-02-29"`},
		{src: `date("2020-01-01") + duration("P1D")`, want: `"2020-01-02"`},
		{src: `date("2020-03-01") - duration("P1D")`, want: `"2020-02-29"`},
		{src: `date("2020-01-02") - date("2020-01-01")`, want: `"P1D"`},
		{src: `date("2020-01-02") > date("2020-01-01")`, want: "true"},
		{src: `date and time("2020-01-01T10:00:00Z") + duration("PT1H")`, want: `"2020-01-01T11:00:00Z"`},
		{src: `date and time("2020-01-01T10:00:00Z") - date and time("2020-01-01T08:30:00Z")`, want: `"PT1H30M"`},
		{src: `date and time("2020-01-01T10:00:00+01:00") = date and time("2020-01-01T09:00:00Z")`, want: "true"},
		{src: `date and time("2020-01-01T10:00:00") < date and time("2020-01-01T10:00:00Z")`, want: "null", warn: WarnNotComparable},
		{src: `date and time("2020-01-01T10:00:00Z").hour`, want: "10"},
		{src: `date("2020-05-06").month`, want: "5"},
		{src: `date("2024-05-06").weekday`, want: "1"},
		{src: `duration("P2DT3H").days`, want: "2"},
		{src: `duration("P1Y2M").months`, want: "2"},
		{src: `years and months duration(date("2011-12-22"), date("2013-08-24"))`, want: `"P1Y8M"`},
		{src: `years and months duration(date("2011-12-22"), date("2013-08-21"))`, want: `"P1Y7M"`},
		{src: "now()", want: `"2024-05-01T10:00:00Z"`},
		{src: "today()", want: `"2024-05-01"`},
		{src: "now() > date and time(\"2024-01-01T00:00:00Z\")", want: "true"},
		{src: `cycle(3, duration("PT1H"))`, want: `"R3/PT1H"`},
		{src: `cycle(duration("PT1H"))`, want: `"R/PT1H"`},
		{src: `cycle(duration("P1D"))`, want: `"R/P1D"`},
		{src: `cycle("PT1H")`, want: "null", warn: WarnFunctionFailure},
	})
}

func TestNamesPathsFilters(t *testing.T) {
	const doc = `{
		"a": {"b": {"c": 42}},
		"order": {"total price": 99.5, "items": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 5}]},
		"customer": {"name": "Ann", "iban": "DE1"},
		"invoices": [{"person": "p1", "amount": 10}, {"person": "p2", "amount": 20}, {"person": "p1", "amount": 5}],
		"p": "p1",
		"i": 2,
		"xs": [1, 2, 3, 4],
		"nothing": null,
		"empty": {}
	}`
	runEvalCases(t, []evalCase{
		{src: "a.b.c", vars: doc, want: "42"},
		{src: "order.`total price`", vars: doc, want: "99.5"},
		{src: "a.b.missing", vars: doc, want: "null", warn: WarnNoContextEntry},
		{src: "x", vars: doc, want: "null", warn: WarnNoVariable},
		{src: "missing.b > 10", vars: doc, want: "null", warn: WarnNoVariable},
		{src: "nothing.b", vars: doc, want: "null"},
		{src: "[1,2,3,4][-1]", want: "4"},
		{src: "[1,2,3,4][1]", want: "1"},
		{src: "[1,2,3,4][-4]", want: "1"},
		{src: "[1,2,3][0]", want: "null"},
		{src: "[1,2,3][4]", want: "null"},
		{src: "[1,2,3][-4]", want: "null"},
		{src: "xs[i]", vars: doc, want: "2"},
		{src: "xs[i + 1]", vars: doc, want: "3"},
		{src: "xs[count(xs)]", vars: doc, want: "4"},
		{src: `invoices[starts with(person, "p2")].amount`, vars: doc, want: "[20]"},
		{src: "[1,2,3,4][item > 2]", want: "[3,4]"},
		{src: "xs[item > 10]", vars: doc, want: "[]"},
		{src: "xs[item > 2][1]", vars: doc, want: "3"},
		{src: "invoices[person = p].amount", vars: doc, want: "[10,5]"},
		{src: "sum(invoices[person = p].amount)", vars: doc, want: "15"},
		{src: "invoices[amount > 5 and person = \"p1\"]", vars: doc, want: `[{"amount":10,"person":"p1"}]`},
		{src: "invoices[item.amount >= 20].person", vars: doc, want: `["p2"]`},
		{src: "[{a:1},{a:2}][a > 1]", want: `[{"a":2}]`},
		{src: `[{a:"p1"},{a:"p2"}].a`, want: `["p1","p2"]`},
		{src: "[{a:1},{b:2}].a", want: "[1,null]"},
		{src: "order.items.qty", vars: doc, want: "[2,5]"},
		{src: "order.items[qty > 3].sku[1]", vars: doc, want: `"y"`},
		{src: "{sender: customer.name, iban: customer.iban}", vars: doc, want: `{"iban":"DE1","sender":"Ann"}`},
		{src: "count(xs)", vars: doc, want: "4"},
		{src: "empty.y = null", vars: doc, want: "true"},
		{src: "{}.y = null", want: "true"},
		{src: "5[1]", want: "5"},
		{src: "null[1]", want: "null"},
	})
}

func TestControlFlow(t *testing.T) {
	runEvalCases(t, []evalCase{
		{src: `if x > 5 then "big" else "small"`, vars: `{"x": 10}`, want: `"big"`},
		{src: `if x > 5 then "big" else "small"`, vars: `{"x": 1}`, want: `"small"`},
		{src: `if x > 5 then "big" else "small"`, want: `"small"`, warn: WarnNoVariable},
		{src: `if null then 1 else 2`, want: "2"},
		{src: "some x in [1,2,3] satisfies x > 2", want: "true"},
		{src: "some x in [1,2,3] satisfies x > 3", want: "false"},
		{src: "every x in [1,2,3] satisfies x > 0", want: "true"},
		{src: "every x in [1,2,3] satisfies x > 1", want: "false"},
		{src: "some x in [] satisfies x > 1", want: "false"},
		{src: "every x in [] satisfies false", want: "true"},
		{src: `some x in [1, "a"] satisfies x > 1`, want: "null"},
		{src: "some x in [1,2], y in [3,4] satisfies x + y = 6", want: "true"},
		{src: "every x in xs satisfies x > 0", want: "null", warn: WarnNoVariable},
		{src: "for i in [1,2,3] return i * 2", want: "[2,4,6]"},
		{src: "for i in 1..3 return i", want: "[1,2,3]"},
		{src: "for i in 3..1 return i", want: "[3,2,1]"},
		{src: "for i in 1..n return i * i", vars: `{"n": 4}`, want: "[1,4,9,16]"},
		{src: "for x in [1,2], y in [10,20] return x + y", want: "[11,21,12,22]"},
		{src: "for i in [] return i", want: "[]"},
		{src: "for i in 1..1.5 return i", want: "null", warn: WarnInvalidType},
		{src: "for i in 1..100000000 return i", want: "null", warn: WarnFailure},
		{src: "true and null", want: "null"},
		{src: "false and null", want: "false"},
		{src: "null and false", want: "false"},
		{src: "true and true", want: "true"},
		{src: "true and 1", want: "null"},
		{src: "true or null", want: "true"},
		{src: "null or true", want: "true"},
		{src: "false or null", want: "null"},
		{src: "false or false", want: "false"},
		{src: "not(true)", want: "false"},
		{src: "not(null)", want: "null"},
		{src: "not(x > 1)", vars: `{"x": 0}`, want: "true"},
		{src: "1 < 2 and 2 < 3 or false", want: "true"},
	})
}

func TestComparison(t *testing.T) {
	runEvalCases(t, []evalCase{
		{src: "1 < 2", want: "true"},
		{src: "1 <= 1", want: "true"},
		{src: "2 > 1", want: "true"},
		{src: "2 >= 3", want: "false"},
		{src: "1 = 1.0", want: "true"},
		{src: "1 != 2", want: "true"},
		{src: `"a" < "b"`, want: "true"},
		{src: `"a" = "a"`, want: "true"},
		{src: `1 = "1"`, want: "null", warn: WarnNotComparable},
		{src: `1 < "1"`, want: "null", warn: WarnNotComparable},
		{src: "true < false", want: "null", warn: WarnNotComparable},
		{src: "true = true", want: "true"},
		{src: "x = null", want: "true", warn: WarnNoVariable},
		{src: "x = null", vars: `{"x": null}`, want: "true"},
		{src: "x != null", vars: `{"x": 1}`, want: "true"},
		{src: "null = null", want: "true"},
		{src: "1 = null", want: "false"},
		{src: "null < 1", want: "null", warn: WarnNotComparable},
		{src: "[1,2] = [1,2]", want: "true"},
		{src: "[1,2] = [1,3]", want: "false"},
		{src: "[1,2] = [1]", want: "false"},
		{src: "{a:1} = {a:1}", want: "true"},
		{src: "{a:1} = {a:2}", want: "false"},
		{src: "{a:1} = {b:1}", want: "false"},
		{src: "x > 5", want: "null", warn: WarnNoVariable},
		{src: "totalPrice > 100", vars: `{"totalPrice": 150}`, want: "true"},
		{src: "5 between 1 and 10", want: "true"},
		{src: "1 between 1 and 10", want: "true"},
		{src: "5 between 6 and 10", want: "false"},
		{src: `"b" between "a" and "c"`, want: "true"},
		{src: `5 between "a" and 10`, want: "null", warn: WarnNotComparable},
		{src: "x in (1..5)", vars: `{"x": 5}`, want: "false"},
		{src: "x in (1..5)", vars: `{"x": 3}`, want: "true"},
		{src: "x in [1..5]", vars: `{"x": 5}`, want: "true"},
		{src: "x in ]1..5]", vars: `{"x": 1}`, want: "false"},
		{src: "x in [1..5[", vars: `{"x": 5}`, want: "false"},
		{src: "3 in (1,2,3)", want: "true"},
		{src: "4 in (1,2,3)", want: "false"},
		{src: "2 in [1,2,3]", want: "true"},
		{src: "[1,2] in [[1,2],[3]]", want: "true"},
		{src: "5 in (< 3, > 4)", want: "true"},
		{src: "5 in < 3", want: "false"},
		{src: "5 in >= 5", want: "true"},
		{src: `"b" in ("a", "b")`, want: "true"},
		{src: "x in xs", vars: `{"x": 2, "xs": [1,2]}`, want: "true"},
		{src: "2 in (1..3) and false", want: "false"},
		{src: "null in (1, null)", want: "true"},
		{src: "1 instance of number", want: "true"},
		{src: `"a" instance of string`, want: "true"},
		{src: "true instance of boolean", want: "true"},
		{src: "{} instance of context", want: "true"},
		{src: "[] instance of list", want: "true"},
		{src: `date("2020-01-01") instance of date`, want: "true"},
		{src: `duration("P1D") instance of days and time duration`, want: "true"},
		{src: "1 instance of string", want: "false"},
		{src: "null instance of number", want: "false"},
		{src: "null instance of Null", want: "true"},
	})
}

func TestBuiltins(t *testing.T) {
	runEvalCases(t, []evalCase{
		{src: "count([1,2,3])", want: "3"},
		{src: "count([])", want: "0"},
		{src: `count("a")`, want: "null", warn: WarnFunctionFailure},
		{src: "count([1], [2])", want: "null", warn: WarnNoFunction},
		{src: "foo(1)", want: "null", warn: WarnNoFunction},
		{src: "sum([1,2,3])", want: "6"},
		{src: "sum(1,2,3)", want: "6"},
		{src: "sum([])", want: "0"},
		{src: `sum([1,"a"])`, want: "null", warn: WarnFunctionFailure},
		{src: "product([2,3,4])", want: "24"},
		{src: "min([3,1,2])", want: "1"},
		{src: "min(3,1,2)", want: "1"},
		{src: "max(1,2,3)", want: "3"},
		{src: `max(["a","c","b"])`, want: `"c"`},
		{src: "max([])", want: "null"},
		{src: `min([1,"a"])`, want: "null", warn: WarnFunctionFailure},
		{src: "mean([1,2,3])", want: "2"},
		{src: "mean([1,2])", want: "1.5"},
		{src: "mean([])", want: "null"},
		{src: "all([true, true])", want: "true"},
		{src: "all([true, null, false])", want: "false"},
		{src: "any([false, null, true])", want: "true"},
		{src: "any([false, null])", want: "null"},
		{src: "append([1], 2, 3)", want: "[1,2,3]"},
		{src: "append([], null)", want: "[null]"},
		{src: "concatenate([1,2],[3])", want: "[1,2,3]"},
		{src: "concatenate([1],[2],[[3]])", want: "[1,2,[3]]"},
		{src: "list contains([1,2,3], 2)", want: "true"},
		{src: "list contains([1,2,3], 5)", want: "false"},
		{src: "list contains([1,null], null)", want: "true"},
		{src: `list contains([1,"a"], "a")`, want: "true"},
		{src: "distinct values([1,2,1,3,2])", want: "[1,2,3]"},
		{src: "distinct values([[1],[1],{a:1},{a:1}])", want: `[[1],{"a":1}]`},
		{src: "flatten([[1,2],[[3]],4])", want: "[1,2,3,4]"},
		{src: "sort([3,1,2])", want: "[1,2,3]"},
		{src: `sort(["b","a","c"])`, want: `["a","b","c"]`},
		{src: "sort([3,1,2], function(x, y) x > y)", want: "[3,2,1]"},
		{src: "sort([{n:2},{n:1}], function(a, b) a.n < b.n).n", want: "[1,2]"},
		{src: `sort([1,"a"])`, want: "null", warn: WarnFunctionFailure},
		{src: `string join(["a","b"])`, want: `"ab"`},
		{src: `string join(["a",null,"b"], ", ")`, want: `"a, b"`},
		{src: `string join(["a","b"], ", ", "[", "]")`, want: `"[a, b]"`},
		{src: `string join([1])`, want: "null", warn: WarnFunctionFailure},
		{src: "reverse([1,2,3])", want: "[3,2,1]"},
		{src: "index of([1,2,3,2], 2)", want: "[2,4]"},
		{src: "sublist([1,2,3], 2)", want: "[2,3]"},
		{src: "sublist([1,2,3], 1, 2)", want: "[1,2]"},
		{src: "sublist([1,2,3], -2, 1)", want: "[2]"},
		{src: "sublist([1,2,3], 5)", want: "null", warn: WarnFunctionFailure},
		{src: "is empty([])", want: "true"},
		{src: "is empty([1])", want: "false"},
		{src: `get or else(null, "x")`, want: `"x"`},
		{src: `get or else(x, "default")`, want: `"default"`},
		{src: `get or else(1, 2)`, want: "1"},
		{src: "is defined(x)", want: "false"},
		{src: "is defined(x)", vars: `{"x": null}`, want: "true"},
		{src: "is defined(a.b)", vars: `{"a": {}}`, want: "false"},
		{src: "is defined(a.b)", vars: `{"a": {"b": 1}}`, want: "true"},
		{src: "is defined(a.b.c)", want: "false"},
		{src: "is defined(1)", want: "true"},
		{src: "context merge([{a:1},{b:2}])", want: `{"a":1,"b":2}`},
		{src: "context merge({a:1},{a:2, c:3})", want: `{"a":2,"c":3}`},
		{src: "context merge([])", want: `{}`},
		{src: "context merge(1)", want: "null", warn: WarnFunctionFailure},
		{src: "if (a != null) then context merge(a,{b: x}) else {b: x}", vars: `{"x": 1}`, want: `{"b":1}`},
		{src: "if (a != null) then context merge(a,{b: x}) else {b: x}", vars: `{"x": 1, "a": {"c": 2, "b": 0}}`, want: `{"b":1,"c":2}`},
		{src: `context put({a:1}, "b", 2)`, want: `{"a":1,"b":2}`},
		{src: `context put({a:{x:1}}, ["a","y"], 2)`, want: `{"a":{"x":1,"y":2}}`},
		{src: `context([{key:"a", value:1}])`, want: `{"a":1}`},
		{src: `get value({a:1}, "a")`, want: "1"},
		{src: `get value({a:1}, "b")`, want: "null"},
		{src: `get value({a:{b:2}}, ["a","b"])`, want: "2"},
		{src: "get entries({b:2, a:1})", want: `[{"key":"a","value":1},{"key":"b","value":2}]`},
		{src: "string(1.1)", want: `"1.1"`},
		{src: "string(123)", want: `"123"`},
		{src: "string(1/4)", want: `"0.25"`},
		{src: "string(true)", want: `"true"`},
		{src: `string("x")`, want: `"x"`},
		{src: "string(null)", want: "null"},
		{src: `string([1,"a"])`, want: `"[1, \"a\"]"`},
		{src: "string({b:1, a:2})", want: `"{a:2, b:1}"`},
		{src: `string(date("2012-12-25"))`, want: `"2012-12-25"`},
		{src: `string(duration("PT1H"))`, want: `"PT1H"`},
		{src: `number("1500.5")`, want: "1500.5"},
		{src: `number("-12")`, want: "-12"},
		{src: `number("1,500", ",")`, want: "1500"},
		{src: `number("1 500,5", " ", ",")`, want: "1500.5"},
		{src: `number("abc")`, want: "null"},
		{src: `string length("abc")`, want: "3"},
		{src: `string length("héllo")`, want: "5"},
		{src: `substring("foobar", 3)`, want: `"obar"`},
		{src: `substring("foobar", 3, 3)`, want: `"oba"`},
		{src: `substring("foobar", -2, 1)`, want: `"a"`},
		{src: `substring("héllo", 2, 2)`, want: `"él"`},
		{src: `substring before("foobar", "bar")`, want: `"foo"`},
		{src: `substring after("foobar", "ob")`, want: `"ar"`},
		{src: `upper case("aBc4")`, want: `"ABC4"`},
		{src: `lower case("aBc4")`, want: `"abc4"`},
		{src: `contains("foobar", "ob")`, want: "true"},
		{src: `starts with("foobar", "fo")`, want: "true"},
		{src: `ends with("foobar", "r")`, want: "true"},
		{src: `ends with("foobar", 1)`, want: "null", warn: WarnFunctionFailure},
		{src: `matches("foobar", "^fo*b")`, want: "true"},
		{src: `matches("FooBar", "foobar", "i")`, want: "true"},
		{src: `matches("abc", "\d")`, want: "false"},
		{src: `matches("abc", "(")`, want: "null", warn: WarnFunctionFailure},
		{src: `replace("abc", "b", "x")`, want: `"axc"`},
		{src: `replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")`, want: `"[1=ab][2=]cd"`},
		{src: `replace("a.b", "\.", "\$")`, want: `"a$b"`},
		{src: `split("John Doe", "\s")`, want: `["John","Doe"]`},
		{src: `split("a;b;c;;", ";")`, want: `["a","b","c","",""]`},
		{src: "abs(-3)", want: "3"},
		{src: `abs(duration("-PT1H"))`, want: `"PT1H"`},
		{src: "floor(1.5)", want: "1"},
		{src: "floor(-1.5)", want: "-2"},
		{src: "floor(1.56, 1)", want: "1.5"},
		{src: "ceiling(1.5)", want: "2"},
		{src: "ceiling(-1.5)", want: "-1"},
		{src: "decimal(1/3, 2)", want: "0.33"},
		{src: "decimal(2.5, 0)", want: "2"},
		{src: "decimal(3.5, 0)", want: "4"},
		{src: "decimal(1.5, 10)", want: "1.5"},
		{src: "decimal(1, 9999999)", want: "null", warn: WarnFunctionFailure},
		{src: "round half up(2.5, 0)", want: "3"},
		{src: "round half up(-2.5, 0)", want: "-3"},
		{src: "round half down(2.5, 0)", want: "2"},
		{src: "round up(1.21, 1)", want: "1.3"},
		{src: "round down(1.29, 1)", want: "1.2"},
		{src: "round half up(1250, -2)", want: "1300"},
		{src: "modulo(12, 5)", want: "2"},
		{src: "modulo(-12, 5)", want: "3"},
		{src: "modulo(12, -5)", want: "-3"},
		{src: "modulo(10.1, 4.5)", want: "1.1"},
		{src: "modulo(1, 0)", want: "null", warn: WarnFunctionFailure},
		{src: "odd(5)", want: "true"},
		{src: "odd(-5)", want: "true"},
		{src: "even(5)", want: "false"},
		{src: "even(0)", want: "true"},
		{src: "even(10)", want: "true"},
		{src: "odd(1.5)", want: "null", warn: WarnFunctionFailure},
		{src: "sqrt(16)", want: "4"},
		{src: "not(false)", want: "true"},
		{src: "not(1)", want: "null"},
	})
}

func TestZeebeUsage(t *testing.T) {
	runEvalCases(t, []evalCase{
		// multi-instance completion condition
		{src: "numberOfCompletedInstances >= numberOfInstances / 2",
			vars: `{"numberOfInstances": 5, "numberOfCompletedInstances": 3}`, want: "true"},
		{src: "result.ok", vars: `{"result": {"ok": true}}`, want: "true"},
		// correlation key and input collection
		{src: "orderId", vars: `{"orderId": 2251799813685249}`, want: "2251799813685249"},
		{src: "items", vars: `{"items": ["a", "b"]}`, want: `["a","b"]`},
		// mappings compiled into one context; entries see earlier ones
		{src: "{sender: customer.name, greeting: \"hi \" + sender}", vars: `{"customer": {"name": "Ann"}}`, want: `{"greeting":"hi Ann","sender":"Ann"}`},
		// user-defined function in a context
		{src: "{inc: function(x) x + 1, r: inc(41)}.r", want: "42"},
		{src: "(function(x) x * 2)(21)", want: "42"},
		// runaway recursion is stopped, not a crash
		{src: "{f: function(n) f(n)}.f(1)", want: "null", warn: WarnFailure},
	})
}

func TestStringGrowthIsBounded(t *testing.T) {
	// Each entry doubles the string: without a limit this would need 2^40 bytes.
	var b strings.Builder
	b.WriteString(`{s0: "0123456789abcdef"`)
	for i := 1; i <= 40; i++ {
		b.WriteString(", s")
		b.WriteString(itoa(i))
		b.WriteString(": s")
		b.WriteString(itoa(i - 1))
		b.WriteString(" + s")
		b.WriteString(itoa(i - 1))
	}
	b.WriteString("}.s40")
	e, err := Parse(b.String())
	require.NoError(t, err)
	res := e.Eval(nil)
	assert.Nil(t, res.Value)
	require.NotEmpty(t, res.Warnings)
}

func itoa(i int) string { return NewNumber(int64(i)).String() }

func TestWarningMessages(t *testing.T) {
	e, err := Parse("x > 5")
	require.NoError(t, err)
	res := e.Eval(nil)
	assert.Nil(t, res.Value)
	require.NotEmpty(t, res.Warnings)
	assert.Equal(t, "[NO_VARIABLE_FOUND] No variable found with name 'x'", res.Warnings[0].String())

	e, err = Parse("a.b")
	require.NoError(t, err)
	res = e.Eval(func(string) (any, bool) { return map[string]any{"c": NewNumber(1)}, true })
	require.Len(t, res.Warnings, 1)
	assert.Equal(t, WarnNoContextEntry, res.Warnings[0].Type)
	assert.Equal(t, "No context entry found with key 'b'. Available keys: 'c'", res.Warnings[0].Message)

	e, err = Parse("foo(1)")
	require.NoError(t, err)
	res = e.Eval(nil)
	require.Len(t, res.Warnings, 1)
	assert.Equal(t, "[NO_FUNCTION_FOUND] No function found with name 'foo' and 1 parameters", res.Warnings[0].String())
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, msg string }{
		{"a +", "failed to parse expression 'a +': unexpected end of input at position 3"},
		{"(1", "failed to parse expression '(1': expected ')' but found end of input at position 2"},
		{"{a:}", "failed to parse expression '{a:}': unexpected token '}' at position 3"},
		{"1 +* 2", "failed to parse expression '1 +* 2': unexpected token '*' at position 3"},
		{"", "failed to parse expression '': unexpected end of input at position 0"},
		{"1 2", "failed to parse expression '1 2': unexpected token '2' at position 2"},
		{"a == b", "failed to parse expression 'a == b': unexpected token '=' at position 3"},
		{`"abc`, "failed to parse expression '\"abc': unterminated string at position 0"},
		{"é $", "failed to parse expression 'é $': unexpected character '$' at position 2"},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			e, err := Parse(c.src)
			require.Error(t, err)
			assert.Nil(t, e)
			assert.Equal(t, c.msg, err.Error())
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
		})
	}
	// Inputs that must fail, whatever the message.
	for _, src := range []string{
		"[1,2", "if x then 1", "if x 1 else 2", "for i in [1] i", "some x in xs", "x in",
		"[1..3]", "foo(a: 1)", `@"bogus"`, "`x", "``", "x instance of foo", "function(a)",
		"{a 1}", "{1: 2}", "a.", "a.1", "1e3", "true = ", "x in (1..", "x in ]1, 2]", "-", ")",
		"/* open", `"\u12"`, "return", "a b", "{a: 1,}", "[1,]", "@1",
		strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
		strings.Repeat("-", 1000) + "1",
	} {
		_, err := Parse(src)
		assert.Error(t, err, "input %q", src)
	}
}

func TestNestedInTestsParseLinearly(t *testing.T) {
	// Deeply nested "in" lists must not trigger exponential backtracking.
	src := strings.Repeat("x in [", 40) + "1" + strings.Repeat("]", 40)
	start := time.Now()
	e, err := Parse(src)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second)
	res := e.Eval(func(string) (any, bool) { return true, true })
	assert.Equal(t, false, res.Value)
}

func TestExpressionString(t *testing.T) {
	e, err := Parse(" totalPrice > 100")
	require.NoError(t, err)
	assert.Equal(t, " totalPrice > 100", e.String())
}

func TestConcurrentEval(t *testing.T) {
	e, err := Parse(`{a: x * 2, b: for i in 1..3 return i + a}.b`)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				res := e.Eval(func(string) (any, bool) { return g, true })
				got, _ := ToJSON(res.Value)
				want, _ := ToJSON([]any{2*g + 1, 2*g + 2, 2*g + 3})
				if string(got) != string(want) {
					t.Errorf("got %s, want %s", got, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestGoScalarsInLookup(t *testing.T) {
	e, err := Parse("a + b + c")
	require.NoError(t, err)
	vars := map[string]any{"a": 1, "b": 2.5, "c": int64(3)}
	res := e.Eval(func(n string) (any, bool) { v, ok := vars[n]; return v, ok })
	got, err := ToJSON(res.Value)
	require.NoError(t, err)
	assert.Equal(t, "6.5", string(got))
}

func TestJSONRoundTrip(t *testing.T) {
	docs := []string{
		`{"a":[1,2,{"b":"<x>&y"}],"c":null,"d":true,"e":2251799813685249,"f":1.5,"g":"é😀","h":-0.001,"i":{},"j":[],"k":false}`,
		`[1,-2,3.25,"x",null,[[]],{"z":{"y":{"x":9223372036854775807}}}]`,
		`"<script>&amp;</script>"`,
		`"tab\there\nnew\"quote\\back\u0001"`,
		`12345`,
		`null`,
		`{"nested":{"list":[{"deep":[1,{"deeper":"v"}]}]},"unicode":"\u2028"}`,
	}
	for _, d := range docs {
		v, err := FromJSON([]byte(d))
		require.NoError(t, err, d)
		out, err := ToJSON(v)
		require.NoError(t, err)
		want := strings.ReplaceAll(d, `\u2028`, "\u2028")
		assert.Equal(t, want, string(out))
	}

	// Numbers are exact FEEL numbers.
	v, err := FromJSON([]byte(`{"n": 0.1, "m": 2251799813685249}`))
	require.NoError(t, err)
	m := v.(map[string]any)
	sum, err := m["n"].(Number).Add(m["m"].(Number))
	require.NoError(t, err)
	assert.Equal(t, "2251799813685249.1", sum.String())

	// Normalisation of numbers on output.
	for in, want := range map[string]string{
		"3.0": "3", "1e2": "100", "-0.0": "0", "1E-7": "1e-7", "1.5e300": "1.5e+300",
		"12345678901234567890": "12345678901234567000", "0.30000000000000000001": "0.3",
	} {
		v, err := FromJSON([]byte(in))
		require.NoError(t, err, in)
		out, err := ToJSON(v)
		require.NoError(t, err)
		assert.Equal(t, want, string(out), in)
	}

	for _, bad := range []string{``, `{`, `[1,]`, `1 2`, `{"a":1}x`, `1e9999999999`, `nul`} {
		_, err := FromJSON([]byte(bad))
		assert.Error(t, err, "input %q", bad)
	}

	// Values built in Go.
	out, err := ToJSON(map[string]any{
		"d": Duration(90 * time.Minute), "p": YearMonthDuration(14), "date": Date{2024, 2, 29},
		"dt": DateTime{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		"i":  7, "f": 0.5, "s": []string{"a"},
	})
	require.NoError(t, err)
	assert.Equal(t, `{"d":"PT1H30M","date":"2024-02-29","dt":"2024-01-02T03:04:05Z","f":0.5,"i":7,"p":"P1Y2M","s":["a"]}`, string(out))

	_, err = ToJSON(struct{}{})
	assert.Error(t, err)
	fn, err := Parse("function(x) x")
	require.NoError(t, err)
	_, err = ToJSON(fn.Eval(nil).Value)
	assert.Error(t, err)
}

func TestZonedDateTime(t *testing.T) {
	if _, err := time.LoadLocation("Europe/Berlin"); err != nil {
		t.Skip("no time zone database")
	}
	e, err := Parse(`date and time("2024-01-31T10:00:00@Europe/Berlin")`)
	require.NoError(t, err)
	res := e.Eval(nil)
	out, err := ToJSON(res.Value)
	require.NoError(t, err)
	assert.Equal(t, `"2024-01-31T10:00:00+01:00[Europe/Berlin]"`, string(out))
	assert.Equal(t, "2024-01-31T10:00:00@Europe/Berlin", res.Value.(DateTime).String())
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"PT5S":                 5 * time.Second,
		"P1D":                  24 * time.Hour,
		"PT1H30M":              90 * time.Minute,
		"PT0.5S":               500 * time.Millisecond,
		"-PT1S":                -time.Second,
		"P1DT1H":               25 * time.Hour,
		"PT0S":                 0,
		"pt1m":                 time.Minute,
		"PT-1S":                -time.Second,
		"PT1.25S":              1250 * time.Millisecond,
		"P2DT3H4M5.000000006S": 2*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second + 6,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "P", "PT", "5S", "P1Y", "P1M", "PT1.5M", "P1H", "PT1S2M", "P1DT",
		"PT-", "abc", "PT1S ", " PT1S", "PT9999999999999999H", "P1W", "PT1.0000000001S", "R3/PT1H", "PT.5S", "P1D1D"} {
		_, err := ParseDuration(bad)
		assert.Error(t, err, "input %q", bad)
	}
}

func TestTypeName(t *testing.T) {
	fn, err := Parse("function(x) x")
	require.NoError(t, err)
	cases := []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{true, "BOOLEAN"},
		{NewNumber(1), "NUMBER"},
		{"x", "STRING"},
		{[]any{}, "ARRAY"},
		{map[string]any{}, "OBJECT"},
		{Duration(time.Second), "DURATION"},
		{YearMonthDuration(1), "PERIOD"},
		{Date{2024, 1, 1}, "DATE"},
		{DateTime{Time: time.Now()}, "DATE_TIME"},
		{struct{}{}, "UNKNOWN"},
		{fn.Eval(nil).Value, "UNKNOWN"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, TypeName(c.v), "%#v", c.v)
	}
}

func TestIsExpressionAndStatic(t *testing.T) {
	assert.True(t, IsExpression("=a"))
	assert.True(t, IsExpression("= a > 1"))
	assert.False(t, IsExpression("="))
	assert.False(t, IsExpression("a"))
	assert.False(t, IsExpression(""))
	assert.False(t, IsExpression(" =a"))

	assert.Equal(t, NewNumber(3), Static("3"))
	assert.Equal(t, NewNumber(1000), Static("1e3"))
	n, _ := ParseNumber("-1.5")
	assert.Equal(t, n, Static("-1.5"))
	assert.Equal(t, "abc", Static("abc"))
	assert.Equal(t, "", Static(""))
	assert.Equal(t, "3 ", Static("3 "))
	assert.Equal(t, "payment", Static("payment"))
}

func BenchmarkCondition(b *testing.B) {
	e, err := Parse(`totalPrice > 100 and status = "approved"`)
	require.NoError(b, err)
	vars := map[string]any{"totalPrice": NewNumber(150), "status": "approved"}
	lookup := func(n string) (any, bool) { v, ok := vars[n]; return v, ok }
	b.ReportAllocs()
	for b.Loop() {
		if r := e.Eval(lookup); r.Value != true {
			b.Fatal(r)
		}
	}
}

func BenchmarkMapping(b *testing.B) {
	e, err := Parse(`{total: sum(items.price), big: items[price > 50], n: count(items)}`)
	require.NoError(b, err)
	v, err := FromJSON([]byte(`{"items": [{"price": 10}, {"price": 60.5}, {"price": 99}]}`))
	require.NoError(b, err)
	vars := v.(map[string]any)
	lookup := func(n string) (any, bool) { v, ok := vars[n]; return v, ok }
	b.ReportAllocs()
	for b.Loop() {
		e.Eval(lookup)
	}
}
