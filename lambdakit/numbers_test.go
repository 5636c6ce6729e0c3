package lambdakit_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// echoAs returns a handler that decodes its input as In and returns it.
func echoAs[In any]() func(context.Context, In) (In, error) {
	return func(_ context.Context, in In) (In, error) { return in, nil }
}

// TestNumbersPassThroughExactly: integers beyond 2^53 and long decimals keep
// their written digits through any handler input that can hold them.
func TestNumbersPassThroughExactly(t *testing.T) {
	// Keys in Go's map order, so the output can be compared byte for byte.
	const vars = `{"big":1e400,"id":9007199254740993,"list":[18446744073709551615,1.5],"neg":-9007199254740993,"nested":{"n":12345678901234567890},"price":0.1000000000000000055511151231257827}`
	type withAny struct {
		Big    any            `json:"big"`
		ID     any            `json:"id"`
		List   []any          `json:"list"`
		Neg    any            `json:"neg"`
		Nested map[string]any `json:"nested"`
		Price  any            `json:"price"`
	}
	for _, tt := range []struct {
		name string
		new  func(lambdakit.Config) (*lambdakit.Handler, error)
	}{
		{"map[string]any", func(c lambdakit.Config) (*lambdakit.Handler, error) {
			return lambdakit.New(echoAs[map[string]any](), c)
		}},
		{"any", func(c lambdakit.Config) (*lambdakit.Handler, error) { return lambdakit.New(echoAs[any](), c) }},
		{"struct with any fields", func(c lambdakit.Config) (*lambdakit.Handler, error) { return lambdakit.New(echoAs[withAny](), c) }},
		{"json.RawMessage", func(c lambdakit.Config) (*lambdakit.Handler, error) {
			return lambdakit.New(echoAs[json.RawMessage](), c)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			h, err := tt.new(testConfig(pub))
			require.NoError(t, err)
			resp := invoke(context.Background(), t, h, jobRecord(t, "m1", vars, nil))
			assert.Empty(t, resp.BatchItemFailures)
			require.Len(t, pub.outcomes, 1)
			require.Equal(t, jobmsg.Complete, pub.outcomes[0].Outcome, pub.outcomes[0].ErrorMessage)
			// Byte for byte: JSONEq would compare them as float64 and hide the rounding.
			assert.Equal(t, vars, string(pub.outcomes[0].Variables))
		})
	}
}

// TestTypedNumbersStillDecode: a number into a typed field decodes as before,
// and a value beyond the type is still the input error it was.
func TestTypedNumbersStillDecode(t *testing.T) {
	type typed struct {
		ID    int64   `json:"id"`
		Price float64 `json:"price"`
	}
	for _, tt := range []struct {
		name, vars, want string
		fails            bool
	}{
		{name: "int64 and float64", vars: `{"id":9007199254740993,"price":0.5}`, want: `{"id":9007199254740993,"price":0.5}`},
		{name: "beyond int64", vars: `{"id":18446744073709551615}`, fails: true},
		{name: "trailing data", vars: `{"id":1} {"id":2}`, fails: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := lambdakit.New(echoAs[typed](), testConfig(&fakePublisher{}))
			require.NoError(t, err)
			out, err := h.Invoke(context.Background(), []byte(tt.vars))
			if tt.fails {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(out))
		})
	}
}
