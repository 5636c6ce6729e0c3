package feel

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func num(t testing.TB, s string) Number {
	t.Helper()
	n, err := ParseNumber(s)
	require.NoError(t, err, s)
	return n
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "007": "7", "1.50": "1.5", ".5": "0.5", "5.": "5", "+3": "3",
		"1e3": "1000", "2.5E-3": "0.0025", "-12.340": "-12.34", "100": "100",
		"123456789012345678901234567890": "123456789012345678901234567890",
		"0.00000000000000000001":         "0.00000000000000000001",
		"0.000000000000000000001":        "1E-21",
		"1e-30":                          "1E-30",
		"1e100":                          "1E+100",
		"-1.25e60":                       "-1.25E+60",
	} {
		assert.Equal(t, want, num(t, in).String(), in)
	}
	for _, bad := range []string{"", "-", ".", "e3", "1e", "1.2.3", "1,5", " 1", "1 ", "0x10", "NaN", "Infinity", "1e+", "--1"} {
		_, err := ParseNumber(bad)
		assert.Error(t, err, bad)
	}
	_, err := ParseNumber("1e1000000000")
	assert.Error(t, err)
}

func TestNumberCanonical(t *testing.T) {
	// Equal values have equal representations, whatever their origin.
	a := num(t, "1.50")
	b, err := num(t, "0.75").Mul(NewNumber(2))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, NewNumber(0), num(t, "0.000"))
	assert.Equal(t, NewNumber(math.MinInt64).String(), "-9223372036854775808")
	assert.Equal(t, NewNumber(math.MaxInt64).String(), "9223372036854775807")
}

func TestNumberArithmetic(t *testing.T) {
	type op func(a, b Number) (Number, error)
	add := Number.Add
	sub := Number.Sub
	mul := Number.Mul
	quo := Number.Quo
	pow := Number.Pow
	cases := []struct {
		a    string
		f    op
		b    string
		want string
	}{
		{"0.1", add, "0.2", "0.3"},
		{"9223372036854775807", add, "1", "9223372036854775808"},
		{"-9223372036854775807", sub, "2", "-9223372036854775809"},
		{"1.005", add, "-1", "0.005"},
		{"1e-40", add, "1", "1"},
		{"1e-33", add, "1", "1.000000000000000000000000000000001"},
		{"1", add, "1e-40", "1"},
		{"1e999999990", add, "1", "1E+999999990"},
		{"-1e999999990", add, "1", "-1E+999999990"},
		{"12345678901234567890123456789012345678", add, "0", "12345678901234567890123456789012350000"},
		{"3037000500", mul, "3037000500", "9223372037000250000"},
		{"1.5", mul, "-2", "-3"},
		{"1", quo, "3", "0.3333333333333333333333333333333333"},
		{"2", quo, "3", "0.6666666666666666666666666666666667"},
		{"-2", quo, "3", "-0.6666666666666666666666666666666667"},
		{"1", quo, "8", "0.125"},
		{"1e30", quo, "1e-30", "1E+60"},
		{"10", quo, "4", "2.5"},
		{"2", pow, "100", "1267650600228229401496703205376"},
		{"2", pow, "-2", "0.25"},
		{"1.1", pow, "2", "1.21"},
		{"2", pow, "0.5", "1.4142135623730951"},
		{"0", pow, "0", "1"},
	}
	for _, c := range cases {
		got, err := c.f(num(t, c.a), num(t, c.b))
		require.NoError(t, err, "%s %s", c.a, c.b)
		assert.Equal(t, c.want, got.String(), "%s op %s", c.a, c.b)
	}
	_, err := NewNumber(1).Quo(NewNumber(0))
	assert.ErrorIs(t, err, errDivisionByZero)
	_, err = NewNumber(0).Pow(NewNumber(-1))
	assert.Error(t, err)
	_, err = num(t, "1e999999999").Mul(NewNumber(10))
	assert.Error(t, err)
	_, err = NewNumber(-1).Pow(num(t, "0.5"))
	assert.Error(t, err)
}

func TestNumberCmp(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"1", "2", -1}, {"2", "1", 1}, {"-1", "1", -1}, {"0", "0", 0},
		{"0.001", "0.01", -1}, {"1e50", "1e49", 1}, {"-1e50", "-1e49", -1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"1.5", "1.49999999999999999999999999", 1},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, num(t, c.a).Cmp(num(t, c.b)), "%s vs %s", c.a, c.b)
	}
}

func TestNumberConversions(t *testing.T) {
	i, ok := NewNumber(42).Int64()
	assert.True(t, ok)
	assert.Equal(t, int64(42), i)
	i, ok = num(t, "1e18").Int64()
	assert.True(t, ok)
	assert.Equal(t, int64(1e18), i)
	_, ok = num(t, "1e19").Int64()
	assert.False(t, ok)
	_, ok = num(t, "1.5").Int64()
	assert.False(t, ok)
	_, ok = num(t, "123456789012345678901234567890").Int64()
	assert.False(t, ok)

	assert.Equal(t, 1.5, num(t, "1.5").Float64())
	assert.Equal(t, 0.1, num(t, "0.1").Float64())
	assert.True(t, math.IsInf(num(t, "1e400").Float64(), 1))

	n, err := NumberFromFloat(0.1)
	require.NoError(t, err)
	assert.Equal(t, "0.1", n.String())
	_, err = NumberFromFloat(math.NaN())
	assert.Error(t, err)

	assert.True(t, NewNumber(3).IsInteger())
	assert.False(t, num(t, "3.5").IsInteger())
	assert.Equal(t, "2", num(t, "2.7").Floor().String())
	assert.Equal(t, "-3", num(t, "-2.7").Floor().String())
	assert.Equal(t, "3", num(t, "2.1").Ceil().String())
}
