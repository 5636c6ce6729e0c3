package jobtoken

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CanonicalJCS returns doc in the canonical form of seal version 2: RFC 8785
// (JSON Canonicalization Scheme) with one exception for numbers, so that
// other languages reproduce it with their standard JSON library plus a page
// of code (docs/contract.md):
//
//   - an integer literal (no fraction, no exponent) is written as its exact
//     decimal value, however large ("-0" is "0");
//   - any other number is read as an IEEE 754 double (out of range is an
//     error); an integral double is written as its exact integer value, any
//     other per ECMAScript's Number::toString, as RFC 8785 does.
//
// Plain JCS writes 9007199254740993 as 9007199254740992, so a seal over it
// would let anyone change such a number unseen; the bridge hands big
// integers to Zeebe exactly. Reading other literals as doubles keeps the
// form stable when a Python re-serialiser (LocalStack's event source
// mapping) rewrites 1e5 as 100000.0, and writing integral doubles as exact
// integers means no two different values share a form. An empty document
// is null; lone surrogates in strings read as U+FFFD, as Go reads them.
func CanonicalJCS(doc json.RawMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeCanonical(&b, doc, SealV2); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeJCSString escapes as ECMAScript's JSON.stringify does (RFC 8785
// section 3.2.2.2): '"', '\\' and the control characters, nothing else.
func writeJCSString(b writer, s string) {
	b.WriteByte('"')
	for _, r := range s { // invalid UTF-8 reads as U+FFFD
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// jcsNumber writes one number literal in the form CanonicalJCS describes.
func jcsNumber(s string) (string, error) {
	if !strings.ContainsAny(s, ".eE") {
		i, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return "", fmt.Errorf("bad integer %q", s)
		}
		return i.String(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("bad number %q: %w", s, err)
	}
	if f == math.Trunc(f) {
		i, _ := big.NewFloat(f).Int(nil) // exact: f is integral; -0 is 0
		return i.String(), nil
	}
	return es6Number(f), nil
}

// es6Number is ECMAScript's Number::toString for a finite, non-integral
// double: the shortest digits that read back as f, laid out in plain
// decimal for exponents -7 < e < 21 and in exponent form otherwise.
func es6Number(f float64) string {
	e := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // d.ddddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n, k := x+1, len(digits) // the value is 0.digits × 10^n
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		out = digits[:1]
		if k > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		out += "e" + sign + strconv.Itoa(abs(n-1))
	}
	if f < 0 {
		out = "-" + out
	}
	return out
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// compareUTF16 orders a and b (valid UTF-8) by their UTF-16 code units, as
// RFC 8785 sorts keys and JavaScript compares strings, without encoding
// them: runes below U+10000 are one unit; above, the high surrogate decides
// first, and it sorts above every unit below U+D800 but below U+E000..U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return cmp.Compare(ua, ub)
			}
			return cmp.Compare(ra, rb) // one high surrogate: the low ones order as the runes
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

func firstUnit(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}
