package feel

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// isoDuration holds the parts of an ISO-8601 duration.
type isoDuration struct {
	months  int64 // years*12 + months
	nanos   int64 // days, hours, minutes and seconds
	hasYM   bool  // a Y or M (month) part was present
	hasTime bool  // a D, H, M (minute) or S part was present
}

var errDurationRange = errors.New("duration out of range")

// parseISODuration parses [-]P[nY][nM][nD][T[nH][nM][n[.f]S]] (case-insensitive,
// a sign may also precede each number, as java.time allows). Only seconds may
// have a fraction.
func parseISODuration(s string) (isoDuration, error) {
	var d isoDuration
	bad := func() (isoDuration, error) { return isoDuration{}, fmt.Errorf("invalid duration '%s'", s) }
	str := strings.ToUpper(s)
	neg := false
	if strings.HasPrefix(str, "-") || strings.HasPrefix(str, "+") {
		neg = str[0] == '-'
		str = str[1:]
	}
	if !strings.HasPrefix(str, "P") {
		return bad()
	}
	str = str[1:]
	inTime := false
	last := -1 // index in order of the last part, to enforce the order of parts
	parts := 0
	for len(str) > 0 {
		if str[0] == 'T' {
			if inTime {
				return bad()
			}
			inTime = true
			str = str[1:]
			if len(str) == 0 {
				return bad()
			}
			continue
		}
		i := 0
		partNeg := false
		if str[i] == '-' || str[i] == '+' {
			partNeg = str[i] == '-'
			i++
		}
		start := i
		var whole int64
		for i < len(str) && str[i] >= '0' && str[i] <= '9' {
			if whole > (math.MaxInt64-9)/10 {
				return isoDuration{}, errDurationRange
			}
			whole = whole*10 + int64(str[i]-'0')
			i++
		}
		if i == start {
			return bad()
		}
		var frac int64 // nanoseconds
		hasFrac := false
		if i < len(str) && (str[i] == '.' || str[i] == ',') {
			hasFrac = true
			i++
			fs := i
			scale := int64(100_000_000)
			for i < len(str) && str[i] >= '0' && str[i] <= '9' {
				if i-fs >= 9 {
					return bad()
				}
				frac += int64(str[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == fs {
				return bad()
			}
		}
		if i >= len(str) {
			return bad()
		}
		unit := str[i]
		str = str[i+1:]
		var pos int
		switch {
		case !inTime && unit == 'Y':
			pos = 0
		case !inTime && unit == 'M':
			pos = 1
		case !inTime && unit == 'D':
			pos = 2
		case inTime && unit == 'H':
			pos = 3
		case inTime && unit == 'M':
			pos = 4
		case inTime && unit == 'S':
			pos = 5
		default:
			return bad()
		}
		if pos <= last || (hasFrac && pos != 5) {
			return bad()
		}
		last = pos
		parts++
		if partNeg {
			whole, frac = -whole, -frac
		}
		var err error
		switch pos {
		case 0, 1:
			d.hasYM = true
			m := whole
			if pos == 0 {
				m, err = mulInt(whole, 12)
			}
			if err == nil {
				d.months, err = addInt(d.months, m)
			}
		default:
			d.hasTime = true
			unitNanos := []int64{0, 0, int64(24 * time.Hour), int64(time.Hour), int64(time.Minute), int64(time.Second)}[pos]
			var n int64
			if n, err = mulInt(whole, unitNanos); err == nil {
				if n, err = addInt(n, frac); err == nil {
					d.nanos, err = addInt(d.nanos, n)
				}
			}
		}
		if err != nil {
			return isoDuration{}, err
		}
	}
	if parts == 0 {
		return bad()
	}
	if neg {
		d.months, d.nanos = -d.months, -d.nanos
	}
	return d, nil
}

func mulInt(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, errDurationRange
	}
	return c, nil
}

func addInt(a, b int64) (int64, error) {
	c := a + b
	if (a >= 0) == (b >= 0) && (c >= 0) != (a >= 0) {
		return 0, errDurationRange
	}
	return c, nil
}

// ParseDuration parses an ISO-8601 duration as used by BPMN timers: "PT5S",
// "P1D" (24 hours), "PT1H30M", "PT0.5S", "-PT1S". Year and month parts are
// rejected because they have no fixed length.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseISODuration(s)
	if err != nil {
		return 0, err
	}
	if d.hasYM {
		return 0, fmt.Errorf("duration '%s' has years or months, which have no fixed length", s)
	}
	return time.Duration(d.nanos), nil
}

// parseFEELDuration parses the argument of duration(): a days-time duration
// or a years-months duration, not a mix of both.
func parseFEELDuration(s string) (any, error) {
	d, err := parseISODuration(s)
	if err != nil {
		return nil, err
	}
	switch {
	case d.hasYM && d.hasTime:
		return nil, fmt.Errorf("duration '%s' mixes years-months and days-time parts", s)
	case d.hasYM:
		return YearMonthDuration(d.months), nil
	}
	return Duration(d.nanos), nil
}

// parseDate parses "YYYY-MM-DD" (the year may have more digits or a sign).
func parseDate(s string) (Date, error) {
	d, rest, err := scanDate(s)
	if err != nil || rest != "" {
		return Date{}, fmt.Errorf("invalid date '%s'", s)
	}
	return d, nil
}

func scanDate(s string) (Date, string, error) {
	bad := errors.New("invalid date")
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	y, i2 := scanDigits(s, i, 4, 9)
	if i2 < 0 || i2 >= len(s) || s[i2] != '-' {
		return Date{}, "", bad
	}
	m, i3 := scanDigits(s, i2+1, 2, 2)
	if i3 < 0 || i3 >= len(s) || s[i3] != '-' {
		return Date{}, "", bad
	}
	d, i4 := scanDigits(s, i3+1, 2, 2)
	if i4 < 0 {
		return Date{}, "", bad
	}
	if neg {
		y = -y
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, "", bad
	}
	return Date{y, time.Month(m), d}, s[i4:], nil
}

// scanDigits reads between lo and hi digits at s[i:]; it returns -1 as the
// index when there are fewer than lo.
func scanDigits(s string, i, lo, hi int) (int, int) {
	v, n := 0, 0
	for i < len(s) && n < hi && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + int(s[i]-'0')
		i++
		n++
	}
	if n < lo {
		return 0, -1
	}
	return v, i
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDateTime parses "YYYY-MM-DDThh:mm[:ss[.f]]" optionally followed by
// "Z", an offset "+hh:mm" or "@Zone/Id".
func parseDateTime(s string) (DateTime, error) {
	bad := fmt.Errorf("invalid date and time '%s'", s)
	d, rest, err := scanDate(s)
	if err != nil || len(rest) == 0 || (rest[0] != 'T' && rest[0] != 't') {
		return DateTime{}, bad
	}
	rest = rest[1:]
	h, i := scanDigits(rest, 0, 2, 2)
	if i < 0 || i >= len(rest) || rest[i] != ':' {
		return DateTime{}, bad
	}
	mi, i := scanDigits(rest, i+1, 2, 2)
	if i < 0 {
		return DateTime{}, bad
	}
	sec, ns := 0, 0
	if i < len(rest) && rest[i] == ':' {
		if sec, i = scanDigits(rest, i+1, 2, 2); i < 0 {
			return DateTime{}, bad
		}
		if i < len(rest) && rest[i] == '.' {
			fs := i + 1
			var f int
			if f, i = scanDigits(rest, fs, 1, 9); i < 0 {
				return DateTime{}, bad
			}
			for k := i - fs; k < 9; k++ {
				f *= 10
			}
			ns = f
		}
	}
	if h > 23 || mi > 59 || sec > 59 {
		return DateTime{}, bad
	}
	rest = rest[i:]
	loc, zone, local := time.UTC, "", false
	switch {
	case rest == "":
		local = true
	case rest == "Z" || rest == "z":
	case rest[0] == '@':
		zone = rest[1:]
		l, err := time.LoadLocation(zone)
		if err != nil || zone == "" || zone == "Local" {
			return DateTime{}, fmt.Errorf("invalid date and time '%s': unknown zone '%s'", s, zone)
		}
		loc = l
	case rest[0] == '+' || rest[0] == '-':
		oh, j := scanDigits(rest, 1, 2, 2)
		if j < 0 || j >= len(rest) || rest[j] != ':' {
			return DateTime{}, bad
		}
		om, j := scanDigits(rest, j+1, 2, 2)
		if j != len(rest) || oh > 18 || om > 59 {
			return DateTime{}, bad
		}
		off := oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return DateTime{}, bad
	}
	return DateTime{Time: time.Date(d.Year, d.Month, d.Day, h, mi, sec, ns, loc), Local: local, Zone: zone}, nil
}

// parseTemporal parses the string of an @"…" literal.
func parseTemporal(s string) (any, error) {
	if strings.HasPrefix(s, "P") || strings.HasPrefix(s, "-P") {
		return parseFEELDuration(s)
	}
	if strings.ContainsAny(s, "Tt") {
		return parseDateTime(s)
	}
	if d, err := parseDate(s); err == nil {
		return d, nil
	}
	return nil, fmt.Errorf("unsupported temporal literal '%s' (dates, date-times and durations are supported)", s)
}

// addMonths adds months to a time the java.time way: the day is clamped to
// the end of the target month (Jan 31 + 1 month = Feb 28/29), unlike Go's
// AddDate, which overflows into the next month.
func addMonths(t time.Time, months int64) (time.Time, bool) {
	total := int64(t.Year())*12 + int64(t.Month()-1) + months
	y, m := total/12, total%12
	if m < 0 {
		y, m = y-1, m+12
	}
	if y > 999_999_999 || y < -999_999_999 {
		return time.Time{}, false
	}
	day := min(t.Day(), daysIn(int(y), time.Month(m+1)))
	return time.Date(int(y), time.Month(m+1), day, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()), true
}
