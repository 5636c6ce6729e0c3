package feel

import (
	"errors"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Number is an exact decimal: coefficient × 10^exponent.
//
// FEEL numbers are decimals (java.math.BigDecimal in feel-scala), so 0.1 + 0.2
// is exactly 0.3 and integers beyond 2^53 stay exact. Arithmetic results are
// rounded to 34 significant digits with half-even rounding, as BigDecimal's
// DECIMAL128 context does; parsed literals keep all their digits.
//
// A Number is immutable and always canonical: trailing zeros of the
// coefficient are removed (1.50 is stored as 15×10^-1) and zero is 0×10^0.
// Equal numbers therefore have equal representations, which keeps ==-based
// comparisons in tests (reflect.DeepEqual) meaningful. The zero value is 0.
type Number struct {
	small int64    // coefficient when big == nil
	big   *big.Int // coefficient when it does not fit an int64; never mutated once set
	exp   int32
}

const (
	// precision is the number of significant digits kept by arithmetic (DECIMAL128).
	precision = 34
	// maxExp bounds the exponent (Java's BigDecimal scale is an int); beyond it
	// an operation fails instead of building astronomically large values.
	maxExp = 999_999_999
)

var (
	errDivisionByZero = errors.New("division by zero")
	errNumberRange    = errors.New("number out of range")
	errInvalidNumber  = errors.New("invalid number")
)

// pow10Small holds 10^0 … 10^18, all that fit an int64.
var pow10Small = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// NewNumber returns the Number for an integer.
func NewNumber(i int64) Number {
	if i == math.MinInt64 {
		n, _ := makeNumber(new(big.Int).SetInt64(i), 0)
		return n
	}
	return normSmall(i, 0)
}

// NumberFromFloat converts a finite float64 to the decimal that prints the
// same as the float's shortest representation (0.1 becomes exactly 0.1).
func NumberFromFloat(f float64) (Number, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Number{}, errInvalidNumber
	}
	return ParseNumber(strconv.FormatFloat(f, 'g', -1, 64))
}

// ParseNumber parses a decimal such as "12", "-1.5", ".5", "5.", "1e3" or
// "2.5E-3" exactly (the forms Java's BigDecimal accepts).
func ParseNumber(s string) (Number, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var digits strings.Builder
	intDigits, fracDigits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits.WriteByte(s[i])
		intDigits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits.WriteByte(s[i])
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return Number{}, errInvalidNumber
	}
	exp := int64(-fracDigits)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		esign := int64(1)
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			if s[i] == '-' {
				esign = -1
			}
			i++
		}
		start := i
		var e int64
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if e < 1e12 { // saturate: anything this large is out of range anyway
				e = e*10 + int64(s[i]-'0')
			}
		}
		if i == start {
			return Number{}, errInvalidNumber
		}
		exp += esign * e
	}
	if i != len(s) {
		return Number{}, errInvalidNumber
	}
	// Strip trailing zeros textually: cheaper than dividing a big coefficient.
	ds := strings.TrimLeft(digits.String(), "0")
	trimmed := strings.TrimRight(ds, "0")
	if trimmed == "" {
		return Number{}, nil
	}
	exp += int64(len(ds) - len(trimmed))
	if len(trimmed) <= 18 {
		v, _ := strconv.ParseInt(trimmed, 10, 64)
		if neg {
			v = -v
		}
		if exp > maxExp || exp < -maxExp {
			return Number{}, errNumberRange
		}
		return Number{small: v, exp: int32(exp)}, nil
	}
	c, ok := new(big.Int).SetString(trimmed, 10)
	if !ok {
		return Number{}, errInvalidNumber
	}
	if neg {
		c.Neg(c)
	}
	return makeNumber(c, exp)
}

// normSmall builds a canonical Number from an int64 coefficient whose
// exponent is known to be in range. Stripping zeros may push the exponent up
// to 18 beyond maxExp, which still fits the int32 and is harmless.
func normSmall(c int64, exp int64) Number {
	if c == 0 {
		return Number{}
	}
	for c%10 == 0 {
		c /= 10
		exp++
	}
	return Number{small: c, exp: int32(exp)}
}

// makeNumber builds a canonical Number from an exact coefficient (not rounded).
func makeNumber(c *big.Int, exp int64) (Number, error) {
	if c.Sign() == 0 {
		return Number{}, nil
	}
	if c.IsInt64() && c.Int64() != math.MinInt64 {
		v := c.Int64()
		for v%10 == 0 {
			v /= 10
			exp++
		}
		if exp > maxExp || exp < -maxExp {
			return Number{}, errNumberRange
		}
		return Number{small: v, exp: int32(exp)}, nil
	}
	c = new(big.Int).Set(c)
	r := new(big.Int)
	tenPow18 := big.NewInt(pow10Small[18])
	q := new(big.Int)
	for {
		q.QuoRem(c, tenPow18, r)
		if r.Sign() != 0 {
			break
		}
		c, q = q, c
		exp += 18
	}
	ten := big.NewInt(10)
	for {
		q.QuoRem(c, ten, r)
		if r.Sign() != 0 {
			break
		}
		c, q = q, c
		exp++
	}
	if exp > maxExp || exp < -maxExp {
		return Number{}, errNumberRange
	}
	if c.IsInt64() && c.Int64() != math.MinInt64 {
		return Number{small: c.Int64(), exp: int32(exp)}, nil
	}
	return Number{big: c, exp: int32(exp)}, nil
}

// finish rounds an exact result to the arithmetic precision and canonicalises it.
func finish(c *big.Int, exp int64) (Number, error) {
	if nd := numDigits(c); nd > precision {
		d := int64(nd - precision)
		c = dropDigits(c, d, roundHalfEven)
		exp += d
	}
	return makeNumber(c, exp)
}

// coef returns the coefficient as a big.Int. The result must not be mutated.
func (n Number) coef() *big.Int {
	if n.big != nil {
		return n.big
	}
	return big.NewInt(n.small)
}

// Sign returns -1, 0 or +1.
func (n Number) Sign() int {
	if n.big != nil {
		return n.big.Sign()
	}
	switch {
	case n.small < 0:
		return -1
	case n.small > 0:
		return 1
	}
	return 0
}

// IsInteger reports whether the number is whole.
func (n Number) IsInteger() bool { return n.exp >= 0 }

// Int64 returns the number as an int64 if it is whole and fits.
func (n Number) Int64() (int64, bool) {
	if n.exp < 0 || n.big != nil {
		return 0, false
	}
	if n.exp > 18 {
		return 0, n.small == 0
	}
	hi, lo := bits.Mul64(uint64(abs64(n.small)), uint64(pow10Small[n.exp]))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if n.small < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

// Float64 returns the nearest float64 (±Inf if out of range).
func (n Number) Float64() float64 {
	if n.big == nil && n.exp == 0 {
		return float64(n.small)
	}
	f, _ := strconv.ParseFloat(n.sci(), 64)
	return f
}

// Neg returns -n.
func (n Number) Neg() Number {
	if n.big != nil {
		return Number{big: new(big.Int).Neg(n.big), exp: n.exp}
	}
	return Number{small: -n.small, exp: n.exp}
}

// Abs returns |n|.
func (n Number) Abs() Number {
	if n.Sign() < 0 {
		return n.Neg()
	}
	return n
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// numDigits returns the number of decimal digits of |c| (1 for zero).
func numDigits(c *big.Int) int {
	if c.IsInt64() {
		v := c.Int64()
		if v == math.MinInt64 {
			return 19
		}
		return digits64(abs64(v))
	}
	// bitLen·log10(2) is either exact or one too high.
	n := int(float64(c.BitLen())*0.30102999566398120) + 1
	if new(big.Int).Abs(c).Cmp(pow10(int64(n-1))) < 0 {
		n--
	}
	return n
}

func digits64(v int64) int {
	d := 1
	for v >= 10 {
		v /= 10
		d++
	}
	return d
}

func (n Number) numDigits() int {
	if n.big != nil {
		return numDigits(n.big)
	}
	return digits64(abs64(n.small))
}

// adjusted is the exponent of the most significant digit.
func (n Number) adjusted() int64 { return int64(n.exp) + int64(n.numDigits()) - 1 }

func pow10(d int64) *big.Int {
	if d <= 18 {
		return big.NewInt(pow10Small[d])
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(d), nil)
}

type roundingMode uint8

const (
	roundHalfEven roundingMode = iota
	roundHalfUp
	roundHalfDown
	roundUp   // away from zero
	roundDown // towards zero
	roundFloor
	roundCeiling
)

// dropDigits returns c / 10^d (d > 0) rounded with the given mode.
func dropDigits(c *big.Int, d int64, mode roundingMode) *big.Int {
	if c.Sign() == 0 {
		return new(big.Int)
	}
	var q, r *big.Int
	halfCmp := -1 // |remainder| compared with half of 10^d
	if d > int64(numDigits(c)) {
		// Every digit is dropped and the remainder is below half a unit.
		q, r = new(big.Int), c
	} else {
		p := pow10(d)
		q, r = new(big.Int).QuoRem(c, p, new(big.Int))
		r2 := new(big.Int).Abs(r)
		halfCmp = r2.Lsh(r2, 1).Cmp(p)
	}
	if r.Sign() == 0 {
		return q
	}
	neg := c.Sign() < 0
	var inc bool
	switch mode {
	case roundHalfEven:
		inc = halfCmp > 0 || (halfCmp == 0 && q.Bit(0) == 1)
	case roundHalfUp:
		inc = halfCmp >= 0
	case roundHalfDown:
		inc = halfCmp > 0
	case roundUp:
		inc = true
	case roundFloor:
		inc = neg
	case roundCeiling:
		inc = !neg
	}
	if inc {
		if neg {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// Cmp compares n and m: -1, 0 or +1.
func (n Number) Cmp(m Number) int {
	sn, sm := n.Sign(), m.Sign()
	if sn != sm {
		if sn < sm {
			return -1
		}
		return 1
	}
	if sn == 0 {
		return 0
	}
	if n.big == nil && m.big == nil && n.exp == m.exp {
		switch {
		case n.small < m.small:
			return -1
		case n.small > m.small:
			return 1
		}
		return 0
	}
	// Same sign: the position of the leading digit decides unless equal, in
	// which case the exponents differ by a bounded amount and we can align.
	an, am := n.adjusted(), m.adjusted()
	if an != am {
		if (an < am) == (sn > 0) {
			return -1
		}
		return 1
	}
	cn, cm := n.coef(), m.coef()
	if n.exp > m.exp {
		cn = new(big.Int).Mul(cn, pow10(int64(n.exp)-int64(m.exp)))
	} else if m.exp > n.exp {
		cm = new(big.Int).Mul(cm, pow10(int64(m.exp)-int64(n.exp)))
	}
	return cn.Cmp(cm)
}

// Add returns n + m rounded to 34 significant digits.
func (n Number) Add(m Number) (Number, error) {
	if n.big == nil && m.big == nil && n.exp == m.exp {
		s := n.small + m.small // wraps on overflow, detected below
		overflow := (n.small >= 0) == (m.small >= 0) && (s >= 0) != (n.small >= 0)
		if !overflow && s != math.MinInt64 {
			return normSmall(s, int64(n.exp)), nil
		}
	}
	if n.Sign() == 0 {
		return finish(m.coef(), int64(m.exp))
	}
	if m.Sign() == 0 {
		return finish(n.coef(), int64(n.exp))
	}
	cn, en := n.coef(), int64(n.exp)
	cm, em := m.coef(), int64(m.exp)
	// When one operand lies entirely below the rounding position of the other
	// and below its last digit, only its sign matters for the rounded result;
	// replace it by a tiny stand-in so aligning does not build huge integers.
	an, am := n.adjusted(), m.adjusted()
	if an >= am {
		if lim := min(en, an-precision-2); am < lim-1 {
			cm, em = big.NewInt(int64(cm.Sign())), lim-2
		}
	} else {
		if lim := min(em, am-precision-2); an < lim-1 {
			cn, en = big.NewInt(int64(cn.Sign())), lim-2
		}
	}
	e := min(en, em)
	if en > e {
		cn = new(big.Int).Mul(cn, pow10(en-e))
	}
	if em > e {
		cm = new(big.Int).Mul(cm, pow10(em-e))
	}
	return finish(new(big.Int).Add(cn, cm), e)
}

// Sub returns n - m rounded to 34 significant digits.
func (n Number) Sub(m Number) (Number, error) { return n.Add(m.Neg()) }

// Mul returns n × m rounded to 34 significant digits.
func (n Number) Mul(m Number) (Number, error) {
	e := int64(n.exp) + int64(m.exp)
	if n.Sign() == 0 || m.Sign() == 0 {
		return Number{}, nil
	}
	if n.big == nil && m.big == nil {
		hi, lo := bits.Mul64(uint64(abs64(n.small)), uint64(abs64(m.small)))
		if hi == 0 && lo <= math.MaxInt64 {
			v := int64(lo)
			if (n.small < 0) != (m.small < 0) {
				v = -v
			}
			if e > maxExp || e < -maxExp {
				return Number{}, errNumberRange
			}
			return normSmall(v, e), nil
		}
	}
	return finish(new(big.Int).Mul(n.coef(), m.coef()), e)
}

// Quo returns n / m rounded to 34 significant digits (exact when the
// quotient terminates within them).
func (n Number) Quo(m Number) (Number, error) {
	if m.Sign() == 0 {
		return Number{}, errDivisionByZero
	}
	if n.Sign() == 0 {
		return Number{}, nil
	}
	cn, cm := n.coef(), m.coef()
	// Scale the dividend so that the integer quotient has at least 35 digits:
	// one more than kept, so that rounding sees the next digit.
	k := int64(precision + 1 + numDigits(cm) - numDigits(cn))
	if k < 0 {
		k = 0
	}
	scaled := new(big.Int).Mul(cn, pow10(k))
	q, r := new(big.Int).QuoRem(scaled, cm, new(big.Int))
	exp := int64(n.exp) - int64(m.exp) - k
	if r.Sign() != 0 {
		// Append a sticky digit so that an inexact quotient never looks like
		// an exact tie when rounded. q is truncated towards zero and has at
		// least 35 digits, so the true value lies just beyond it.
		q.Mul(q, big.NewInt(10))
		if q.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
		exp--
	}
	return finish(q, exp)
}

// Pow returns n ** m. Integer exponents are computed in decimal (rounded to
// 34 digits); other exponents go through float64, as feel-scala does.
func (n Number) Pow(m Number) (Number, error) {
	if k, ok := m.Int64(); ok && k >= -maxExp && k <= maxExp {
		neg := k < 0
		if neg {
			k = -k
		}
		result, base := NewNumber(1), n
		var err error
		for k > 0 {
			if k&1 == 1 {
				if result, err = result.Mul(base); err != nil {
					return Number{}, err
				}
			}
			k >>= 1
			if k > 0 {
				if base, err = base.Mul(base); err != nil {
					return Number{}, err
				}
			}
		}
		if neg {
			return NewNumber(1).Quo(result)
		}
		return result, nil
	}
	f := math.Pow(n.Float64(), m.Float64())
	return NumberFromFloat(f)
}

// roundScale rounds n to scale fractional digits (negative scale rounds to
// tens, hundreds, …) with the given mode.
func (n Number) roundScale(scale int64, mode roundingMode) (Number, error) {
	if -int64(n.exp) <= scale {
		return n, nil
	}
	d := -int64(n.exp) - scale
	return makeNumber(dropDigits(n.coef(), d, mode), -scale)
}

// Floor returns the greatest integer ≤ n.
func (n Number) Floor() Number { r, _ := n.roundScale(0, roundFloor); return r }

// Ceil returns the least integer ≥ n.
func (n Number) Ceil() Number { r, _ := n.roundScale(0, roundCeiling); return r }

// sci renders n as coefficient "E" exponent, which ParseFloat and JSON accept.
func (n Number) sci() string {
	if n.big == nil {
		return strconv.FormatInt(n.small, 10) + "E" + strconv.Itoa(int(n.exp))
	}
	return n.big.String() + "E" + strconv.Itoa(int(n.exp))
}

// String renders n in plain notation ("1.5", "-20", "0.001"); extreme
// magnitudes use scientific notation ("1.5E+300") to stay short.
func (n Number) String() string {
	if n.big == nil && n.exp == 0 {
		return strconv.FormatInt(n.small, 10)
	}
	digits := n.coef().String()
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	exp := int(n.exp)
	adj := exp + len(digits) - 1
	switch {
	case exp >= 0 && adj < 40:
		return sign + digits + strings.Repeat("0", exp)
	case exp < 0 && adj >= 0:
		p := len(digits) + exp
		return sign + digits[:p] + "." + digits[p:]
	case exp < 0 && adj >= -20:
		return sign + "0." + strings.Repeat("0", -adj-1) + digits
	}
	mant := digits[:1]
	if len(digits) > 1 {
		mant += "." + digits[1:]
	}
	es := strconv.Itoa(adj)
	if adj >= 0 {
		es = "+" + es
	}
	return sign + mant + "E" + es
}

// appendJSON writes n the way Zeebe stores numbers: whole numbers that fit a
// 64-bit integer as integers, everything else as the shortest float64 text
// (Zeebe converts non-integral results to double).
func (n Number) appendJSON(b []byte) []byte {
	if i, ok := n.Int64(); ok {
		return strconv.AppendInt(b, i, 10)
	}
	f := n.Float64()
	if math.IsInf(f, 0) {
		return append(b, n.sci()...)
	}
	// Same layout as encoding/json: plain notation for moderate magnitudes.
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// Drop a leading zero of a two-digit negative exponent: 1e-07 → 1e-7.
	if k := len(s); k >= 4 && s[k-4] == 'e' && s[k-3] == '-' && s[k-2] == '0' {
		s = s[:k-2] + s[k-1:]
	}
	return append(b, s...)
}

// intArg returns n as an int if it is whole and within ±maxExp.
func (n Number) intArg() (int, bool) {
	i, ok := n.Int64()
	if !ok || i > maxExp || i < -maxExp {
		return 0, false
	}
	return int(i), true
}
