package feel

import (
	"math"
	"time"
)

// arith applies + - * / ** to two values. A null operand gives null; a
// combination of types without a meaning gives null and an INVALID_TYPE
// warning; a failing operation (division by zero, overflow) gives null and
// a FAILED_TO_EVALUATE_EXPRESSION warning.
func (ev *evaluator) arith(op opcode, l, r any) any {
	if l == nil || r == nil {
		return nil
	}
	switch a := l.(type) {
	case Number:
		switch b := r.(type) {
		case Number:
			return ev.numberOp(op, a, b)
		case Duration:
			if op == opMul {
				return ev.scaleDuration(b, a, false)
			}
		case YearMonthDuration:
			if op == opMul {
				return ev.scaleMonths(b, a, false)
			}
		}
	case string:
		if b, ok := r.(string); ok && op == opAdd {
			if len(a)+len(b) > maxStringLen {
				ev.warn(WarnFailure, "Can't concatenate strings: the result would be longer than %d bytes", maxStringLen)
				return nil
			}
			ev.charge((len(a) + len(b)) / 64)
			return a + b
		}
	case Duration:
		switch b := r.(type) {
		case Duration:
			switch op {
			case opAdd:
				if s, err := addInt(int64(a), int64(b)); err == nil {
					return Duration(s)
				}
				return ev.overflow(op, l, r)
			case opSub:
				if s, err := addInt(int64(a), -int64(b)); err == nil && b != math.MinInt64 {
					return Duration(s)
				}
				return ev.overflow(op, l, r)
			case opDiv:
				if b == 0 {
					return ev.divisionByZero(l)
				}
				q, err := NewNumber(int64(a)).Quo(NewNumber(int64(b)))
				if err != nil {
					return ev.overflow(op, l, r)
				}
				return q
			}
		case Number:
			switch op {
			case opMul:
				return ev.scaleDuration(a, b, false)
			case opDiv:
				return ev.scaleDuration(a, b, true)
			}
		case Date, DateTime:
			if op == opAdd {
				return ev.arith(op, r, l)
			}
		}
	case YearMonthDuration:
		switch b := r.(type) {
		case YearMonthDuration:
			switch op {
			case opAdd:
				return a + b
			case opSub:
				return a - b
			case opDiv:
				if b == 0 {
					return ev.divisionByZero(l)
				}
				q, _ := NewNumber(int64(a)).Quo(NewNumber(int64(b)))
				return q
			}
		case Number:
			switch op {
			case opMul:
				return ev.scaleMonths(a, b, false)
			case opDiv:
				return ev.scaleMonths(a, b, true)
			}
		case Date, DateTime:
			if op == opAdd {
				return ev.arith(op, r, l)
			}
		}
	case Date:
		switch b := r.(type) {
		case Duration:
			if op == opAdd || op == opSub {
				if t, ok := addDuration(a.Time(), b, op == opSub); ok {
					return dateOf(t)
				}
				return ev.overflow(op, l, r)
			}
		case YearMonthDuration:
			if op == opAdd || op == opSub {
				if t, ok := addMonths(a.Time(), signed(int64(b), op == opSub)); ok {
					return dateOf(t)
				}
				return ev.overflow(op, l, r)
			}
		case Date:
			if op == opSub {
				return Duration(a.Time().Sub(b.Time()))
			}
		}
	case DateTime:
		switch b := r.(type) {
		case Duration:
			if op == opAdd || op == opSub {
				if t, ok := addDuration(a.Time, b, op == opSub); ok {
					return DateTime{Time: t, Local: a.Local, Zone: a.Zone}
				}
				return ev.overflow(op, l, r)
			}
		case YearMonthDuration:
			if op == opAdd || op == opSub {
				if t, ok := addMonths(a.Time, signed(int64(b), op == opSub)); ok {
					return DateTime{Time: t, Local: a.Local, Zone: a.Zone}
				}
				return ev.overflow(op, l, r)
			}
		case DateTime:
			if op == opSub && a.Local == b.Local {
				return Duration(a.Time.Sub(b.Time))
			}
		}
	}
	ev.warn(WarnInvalidType, "Can't apply '%s' to %s and %s", opText[op], repr(l), repr(r))
	return nil
}

func signed(v int64, neg bool) int64 {
	if neg {
		return -v
	}
	return v
}

func addDuration(t time.Time, d Duration, sub bool) (time.Time, bool) {
	if sub {
		if d == math.MinInt64 {
			return time.Time{}, false
		}
		d = -d
	}
	return t.Add(time.Duration(d)), true
}

func (ev *evaluator) numberOp(op opcode, a, b Number) any {
	var r Number
	var err error
	switch op {
	case opAdd:
		r, err = a.Add(b)
	case opSub:
		r, err = a.Sub(b)
	case opMul:
		r, err = a.Mul(b)
	case opDiv:
		if b.Sign() == 0 {
			return ev.divisionByZero(a)
		}
		r, err = a.Quo(b)
	case opPow:
		r, err = a.Pow(b)
	}
	if err != nil {
		if err == errDivisionByZero {
			return ev.divisionByZero(a)
		}
		return ev.overflow(op, a, b)
	}
	return r
}

func (ev *evaluator) divisionByZero(v any) any {
	ev.warn(WarnFailure, "Can't divide %s by zero", repr(v))
	return nil
}

func (ev *evaluator) overflow(op opcode, l, r any) any {
	ev.warn(WarnFailure, "Can't apply '%s' to %s and %s: the result is out of range", opText[op], repr(l), repr(r))
	return nil
}

// scaleDuration multiplies or divides a duration by a number, rounding to
// whole nanoseconds.
func (ev *evaluator) scaleDuration(d Duration, n Number, div bool) any {
	var r Number
	var err error
	if div {
		if n.Sign() == 0 {
			return ev.divisionByZero(d)
		}
		r, err = NewNumber(int64(d)).Quo(n)
	} else {
		r, err = NewNumber(int64(d)).Mul(n)
	}
	if err == nil {
		r, err = r.roundScale(0, roundHalfEven)
	}
	if err == nil {
		if ns, ok := r.Int64(); ok {
			return Duration(ns)
		}
	}
	return ev.overflow(mulOrDiv(div), d, n)
}

// scaleMonths multiplies or divides a years-months duration by a number,
// rounding to whole months.
func (ev *evaluator) scaleMonths(m YearMonthDuration, n Number, div bool) any {
	var r Number
	var err error
	if div {
		if n.Sign() == 0 {
			return ev.divisionByZero(m)
		}
		r, err = NewNumber(int64(m)).Quo(n)
	} else {
		r, err = NewNumber(int64(m)).Mul(n)
	}
	if err == nil {
		r, err = r.roundScale(0, roundHalfEven)
	}
	if err == nil {
		if v, ok := r.Int64(); ok {
			return YearMonthDuration(v)
		}
	}
	return ev.overflow(mulOrDiv(div), m, n)
}

func mulOrDiv(div bool) opcode {
	if div {
		return opDiv
	}
	return opMul
}
