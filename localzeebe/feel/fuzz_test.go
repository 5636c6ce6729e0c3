package feel

import (
	"testing"
	"time"
)

// FuzzParseEval checks that Parse and Eval never panic and that every
// result can be rendered, whatever the input.
func FuzzParseEval(f *testing.F) {
	for _, seed := range []string{
		"1 + 2", "a.b.c", "x > 5 and y", `{a: 1, b: a + 1}.b`, "[1,2,3][item > 1]",
		"for i in 1..3 return i * 2", "some x in xs satisfies x > 1", `x in (1..5)`,
		`if a = null then "n" else string(a)`, `date("2024-01-31") + duration("P1M")`,
		`sort(xs, function(a, b) a > b)`, `"a" + 1`, "1 / 0", "2 ** 0.5", `@"P1D"`,
		"count(xs) between 1 and 10", `matches(s, "^a.*")`, "xs[-1]", "ctx.list.a",
		`context merge(ctx, {z: 1})`, "cycle(3, duration(\"PT1H\"))", "x instance of number",
	} {
		f.Add(seed)
	}
	vars, err := FromJSON([]byte(`{"x": 7, "y": true, "xs": [3, 1, 2], "s": "abc", "a": null,
		"ctx": {"k": "v", "list": [{"a": 1}, {"a": "two"}]}, "big": 2251799813685249}`))
	if err != nil {
		f.Fatal(err)
	}
	m := vars.(map[string]any)
	lookup := func(name string) (any, bool) { v, ok := m[name]; return v, ok }
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			if e != nil {
				t.Fatalf("Parse(%q) returned both an expression and an error", src)
			}
			return
		}
		if e.String() != src {
			t.Fatalf("String() = %q, want %q", e.String(), src)
		}
		res := e.EvalAt(lookup, now)
		_, _ = ToJSON(res.Value) // may fail for functions, must not panic
		_ = TypeName(res.Value)
		for _, w := range res.Warnings {
			_ = w.String()
		}
	})
}
