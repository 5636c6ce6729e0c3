package feel

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Duration is a FEEL days-time duration ("P1DT2H", "PT0.5S").
// Convert with time.Duration(d) or d.TimeDuration().
type Duration time.Duration

// TimeDuration returns d as a time.Duration.
func (d Duration) TimeDuration() time.Duration { return time.Duration(d) }

// String renders d in ISO-8601 with days split off: "P1DT2H30M", "PT0.5S",
// "-PT1S", "PT0S".
func (d Duration) String() string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u // two's complement magnitude, correct even for MinInt64
	}
	b.WriteByte('P')
	const day = uint64(24 * time.Hour)
	if days := u / day; days > 0 {
		b.WriteString(strconv.FormatUint(days, 10))
		b.WriteByte('D')
	}
	u %= day
	if u == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := u / uint64(time.Hour); h > 0 {
		b.WriteString(strconv.FormatUint(h, 10))
		b.WriteByte('H')
	}
	if m := u / uint64(time.Minute) % 60; m > 0 {
		b.WriteString(strconv.FormatUint(m, 10))
		b.WriteByte('M')
	}
	if s, ns := u/uint64(time.Second)%60, u%uint64(time.Second); s > 0 || ns > 0 {
		b.WriteString(strconv.FormatUint(s, 10))
		if ns > 0 {
			b.WriteByte('.')
			b.WriteString(strings.TrimRight(fmt.Sprintf("%09d", ns), "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// YearMonthDuration is a FEEL years-months duration ("P1Y2M"), held as a
// total number of months.
type YearMonthDuration int64

// String renders the duration as "P1Y2M", "-P3M" or "P0M".
func (y YearMonthDuration) String() string {
	if y == 0 {
		return "P0M"
	}
	m := int64(y)
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	s := sign + "P"
	if m/12 > 0 {
		s += strconv.FormatInt(m/12, 10) + "Y"
	}
	if m%12 > 0 {
		s += strconv.FormatInt(m%12, 10) + "M"
	}
	return s
}

// Date is a FEEL date (a calendar day without time or zone).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String renders the date as "2024-05-31".
func (d Date) String() string {
	return formatYear(d.Year) + fmt.Sprintf("-%02d-%02d", int(d.Month), d.Day)
}

func formatYear(y int) string {
	if y < 0 {
		return fmt.Sprintf("-%04d", -y)
	}
	return fmt.Sprintf("%04d", y)
}

func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// DateTime is a FEEL date and time. A local date-time has no offset or zone:
// only the wall-clock fields of Time matter (its location is UTC). Otherwise
// Time carries the offset, and Zone the IANA zone id if one was given with
// "@" (e.g. "2024-05-31T10:00:00@Europe/Berlin").
type DateTime struct {
	Time  time.Time
	Local bool
	Zone  string
}

// String renders the FEEL form: "2024-05-31T10:00:00", "…+02:00", "…Z" or "…@Europe/Berlin".
func (d DateTime) String() string {
	s := formatLocalDateTime(d.Time)
	switch {
	case d.Local:
		return s
	case d.Zone != "":
		return s + "@" + d.Zone
	}
	return s + formatOffset(d.Time)
}

// isoString renders the date-time as ISO-8601 for storage as a variable:
// java.time's zoned form "…+02:00[Europe/Berlin]" when a zone id is known.
func (d DateTime) isoString() string {
	s := formatLocalDateTime(d.Time)
	switch {
	case d.Local:
		return s
	case d.Zone != "":
		return s + formatOffset(d.Time) + "[" + d.Zone + "]"
	}
	return s + formatOffset(d.Time)
}

func formatLocalDateTime(t time.Time) string {
	s := dateOf(t).String() + fmt.Sprintf("T%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
	// Fractions in groups of three digits, as java.time prints them.
	if ns := t.Nanosecond(); ns != 0 {
		switch {
		case ns%1_000_000 == 0:
			s += fmt.Sprintf(".%03d", ns/1_000_000)
		case ns%1_000 == 0:
			s += fmt.Sprintf(".%06d", ns/1_000)
		default:
			s += fmt.Sprintf(".%09d", ns)
		}
	}
	return s
}

func formatOffset(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	s := fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
	if off%60 != 0 {
		s += fmt.Sprintf(":%02d", off%60)
	}
	return s
}

// TypeName names a value's type the way Zeebe's incident messages do.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case bool:
		return "BOOLEAN"
	case Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return "NUMBER"
	case string:
		return "STRING"
	case []any:
		return "ARRAY"
	case map[string]any:
		return "OBJECT"
	case Duration:
		return "DURATION"
	case YearMonthDuration:
		return "PERIOD"
	case Date:
		return "DATE"
	case DateTime:
		return "DATE_TIME"
	}
	return "UNKNOWN"
}

// Normalize converts plain Go values (ints, floats, json.Number,
// time.Duration, time.Time, []string and nested []any / map[string]any) into
// FEEL values. Values that already are FEEL values are returned unchanged;
// unknown types are kept as they are and behave as opaque values.
func Normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	}
	return normalizeScalar(v)
}

// normalizeScalar converts Go scalars to FEEL values with a type switch
// (no reflection), so variables supplied as int or float64 still work.
func normalizeScalar(v any) any {
	switch x := v.(type) {
	case int:
		return NewNumber(int64(x))
	case int8:
		return NewNumber(int64(x))
	case int16:
		return NewNumber(int64(x))
	case int32:
		return NewNumber(int64(x))
	case int64:
		return NewNumber(x)
	case uint:
		return numberFromUint(uint64(x))
	case uint8:
		return NewNumber(int64(x))
	case uint16:
		return NewNumber(int64(x))
	case uint32:
		return NewNumber(int64(x))
	case uint64:
		return numberFromUint(x)
	case float32:
		if n, err := NumberFromFloat(float64(x)); err == nil {
			return n
		}
		return nil
	case float64:
		if n, err := NumberFromFloat(x); err == nil {
			return n
		}
		return nil
	case json.Number:
		if n, err := ParseNumber(string(x)); err == nil {
			return n
		}
		return nil
	case time.Duration:
		return Duration(x)
	case time.Time:
		return DateTime{Time: x}
	}
	return v
}

func numberFromUint(u uint64) Number {
	if u <= math.MaxInt64 {
		return NewNumber(int64(u))
	}
	n, _ := ParseNumber(strconv.FormatUint(u, 10))
	return n
}

// sortedKeys returns a context's keys in byte order: contexts are Go maps,
// so sorting is what makes rendering and iteration deterministic.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// toString renders a value as FEEL's string() does: strings unquoted, nested
// strings quoted, "null" for null. Rendering stops a little beyond
// maxStringLen bytes (callers reject such results).
func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeRepr(&b, v, maxStringLen)
	return b.String()
}

// reprLimit bounds the rendering of values in warning messages, so that a
// warning about a huge list stays small.
const reprLimit = 200

// repr renders a value for warning messages (strings quoted), shortened with
// "..." beyond reprLimit bytes.
func repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, reprLimit)
	if b.Len() > reprLimit {
		return b.String()[:reprLimit] + "..."
	}
	return b.String()
}

// writeRepr renders v, stopping early once b holds more than limit bytes.
func writeRepr(b *strings.Builder, v any, limit int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		if len(x) > limit {
			x = x[:limit]
		}
		b.WriteString(strconv.Quote(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if b.Len() > limit {
				return
			}
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, limit)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if b.Len() > limit {
				return
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte(':')
			writeRepr(b, x[k], limit)
		}
		b.WriteByte('}')
	case *function:
		b.WriteString("function(" + strings.Join(x.params, ", ") + ")")
	case fmt.Stringer:
		b.WriteString(x.String())
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// equal implements FEEL '=': ok is false when the values are not comparable
// (different types). null equals only null, whatever the other type.
func equal(a, b any) (eq, ok bool) {
	if a == nil || b == nil {
		return a == nil && b == nil, true
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		return ok && x == y, ok
	case Number:
		y, ok := b.(Number)
		return ok && x.Cmp(y) == 0, ok
	case string:
		y, ok := b.(string)
		return ok && x == y, ok
	case Duration:
		y, ok := b.(Duration)
		return ok && x == y, ok
	case YearMonthDuration:
		y, ok := b.(YearMonthDuration)
		return ok && x == y, ok
	case Date:
		y, ok := b.(Date)
		return ok && x == y, ok
	case DateTime:
		c, ok := compare(a, b)
		return ok && c == 0, ok
	case []any:
		y, ok := b.([]any)
		if !ok {
			return false, false
		}
		if len(x) != len(y) {
			return false, true
		}
		for i := range x {
			if e, ok := equal(x[i], y[i]); !ok || !e {
				return false, ok
			}
		}
		return true, true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false, false
		}
		if len(x) != len(y) {
			return false, true
		}
		for k, xv := range x {
			yv, found := y[k]
			if !found {
				return false, true
			}
			if e, ok := equal(xv, yv); !ok || !e {
				return false, ok
			}
		}
		return true, true
	}
	return false, false
}

// compare orders two values of the same ordered type; ok is false otherwise.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case Number:
		if y, ok := b.(Number); ok {
			return x.Cmp(y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case Duration:
		if y, ok := b.(Duration); ok {
			return cmpInt(int64(x), int64(y)), true
		}
	case YearMonthDuration:
		if y, ok := b.(YearMonthDuration); ok {
			return cmpInt(int64(x), int64(y)), true
		}
	case Date:
		if y, ok := b.(Date); ok {
			return x.Time().Compare(y.Time()), true
		}
	case DateTime:
		if y, ok := b.(DateTime); ok && x.Local == y.Local {
			if x.Local {
				return wall(x.Time).Compare(wall(y.Time)), true
			}
			return x.Time.Compare(y.Time), true
		}
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wall returns the wall-clock fields of t as a UTC time.
func wall(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}
