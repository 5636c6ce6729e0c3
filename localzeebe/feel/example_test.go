package feel_test

import (
	"fmt"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

func Example() {
	// A sequence-flow condition: parse once, evaluate per process instance.
	cond, err := feel.Parse(` sum(items[qty > 1].price) > 100`)
	if err != nil {
		panic(err)
	}
	vars, _ := feel.FromJSON([]byte(`{"items": [{"qty": 2, "price": 60.5}, {"qty": 3, "price": 40}, {"qty": 1, "price": 999}]}`))
	lookup := func(name string) (any, bool) {
		v, ok := vars.(map[string]any)[name]
		return v, ok
	}
	res := cond.Eval(lookup)
	fmt.Println(res.Value, feel.TypeName(res.Value))

	// A missing variable gives null plus a warning, never an error.
	res = cond.Eval(func(string) (any, bool) { return nil, false })
	fmt.Println(feel.TypeName(res.Value), res.Warnings[0])

	// An output mapping: the result is stored as JSON.
	mapping, _ := feel.Parse(`{total: sum(items.price), count: count(items), avg: total / count}`)
	out, _ := feel.ToJSON(mapping.Eval(lookup).Value)
	fmt.Println(string(out))

	// Output:
	// true BOOLEAN
	// NULL [NO_VARIABLE_FOUND] No variable found with name 'items'
	// {"avg":366.5,"count":3,"total":1099.5}
}
