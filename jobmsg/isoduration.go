package jobmsg

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseISODuration parses the ISO-8601 durations BPMN models use for
// timeouts, in the form PnDTnHnMnS as Java's Duration.parse (and so Zeebe)
// reads it: P1D, PT5M, PT1H30M, P1DT12H, PT0.5S, with letters in either case
// and an optional fraction of up to nine digits on the seconds.
//
// Since the value is a timeout it must be positive. Years, months and weeks
// are rejected rather than guessed at: Duration.parse does not accept them
// either, and a month has no fixed length.
func ParseISODuration(s string) (time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an ISO-8601 duration such as PT5M, PT1H30M or P1D: %s", s, why)
	}
	u := strings.ToUpper(strings.TrimSpace(s))
	rest, ok := strings.CutPrefix(u, "P")
	if !ok {
		return 0, bad("it must start with P")
	}
	datePart, timePart, hasT := strings.Cut(rest, "T")
	if rest == "" || (hasT && timePart == "") {
		return 0, bad("it names no amount")
	}
	var total time.Duration
	add := func(d time.Duration) error {
		if d > math.MaxInt64-total {
			return bad("too long")
		}
		total += d
		return nil
	}
	if datePart != "" {
		n, ok := strings.CutSuffix(datePart, "D")
		if !ok {
			return 0, bad("only days (D) may come before T; years, months and weeks have no fixed length")
		}
		d, err := whole(n, 24*time.Hour)
		if err != nil {
			return 0, bad(err.Error())
		}
		if err := add(d); err != nil {
			return 0, err
		}
	}
	const order = "HMS"
	next := 0 // index in order of the first unit still allowed
	for timePart != "" {
		i := strings.IndexAny(timePart, order)
		if i < 0 {
			return 0, bad("after T, amounts must end in H, M or S")
		}
		unit := timePart[i]
		pos := strings.IndexByte(order[next:], unit)
		if pos < 0 {
			return 0, bad("hours, minutes and seconds must come in that order, each at most once")
		}
		next += pos + 1
		num := timePart[:i]
		timePart = timePart[i+1:]
		var d time.Duration
		var err error
		switch unit {
		case 'H':
			d, err = whole(num, time.Hour)
		case 'M':
			d, err = whole(num, time.Minute)
		case 'S':
			d, err = seconds(num)
		}
		if err != nil {
			return 0, bad(err.Error())
		}
		if err := add(d); err != nil {
			return 0, err
		}
	}
	if total <= 0 {
		return 0, fmt.Errorf("%q: a timeout must be positive", s)
	}
	return total, nil
}

// whole parses an unsigned decimal count of unit.
func whole(num string, unit time.Duration) (time.Duration, error) {
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a whole number", num)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > int64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("%s is too long", num)
	}
	return time.Duration(n) * unit, nil
}

// seconds parses "12", "12.5" or "12,5" exactly, without going through a
// float: PT0.3S is 300ms, not 299.999999ms.
func seconds(num string) (time.Duration, error) {
	intPart, frac, hasFrac := strings.Cut(strings.Replace(num, ",", ".", 1), ".")
	d, err := whole(intPart, time.Second)
	if err != nil {
		return 0, err
	}
	if !hasFrac {
		return d, nil
	}
	if len(frac) > 9 || strings.TrimLeft(frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q: a fraction of a second takes up to nine digits", num)
	}
	if frac == "" {
		return d, nil
	}
	ns, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", num, err)
	}
	if d > math.MaxInt64-time.Duration(ns) {
		return 0, fmt.Errorf("%s is too long", num)
	}
	return d + time.Duration(ns), nil
}
