// Package feel implements the subset of FEEL (Friendly Enough Expression
// Language) that Zeebe 8.5 process models commonly use, with the semantics of
// camunda/feel-scala 1.17 as described in the project's behaviour reference
// (§5 of zeebe-8.5-gateway-behaviour.md). It was written from that
// description and from FEEL's documented behaviour; no code was taken from
// feel-scala or any other implementation.
//
// # Use
//
// Parse an expression once (the text after Zeebe's leading '='; see
// IsExpression and Static for attribute values) and evaluate it many times
// with Eval, giving it a Lookup for the top-level variables. An *Expression
// is immutable and safe for concurrent use. Eval never panics and never
// returns an error: as in FEEL 1.17, anything that goes wrong yields null
// (nil) plus warnings ("[NO_VARIABLE_FOUND] No variable found with name
// 'x'"), which the engine turns into incident text. ToJSON renders results
// the way Zeebe stores them as variables; FromJSON turns variable documents
// into FEEL values.
//
// # Values
//
//	null                     nil
//	boolean                  bool
//	number                   Number (exact decimal; arithmetic rounds to 34 digits, half-even)
//	string                   string
//	list                     []any
//	context                  map[string]any
//	days-time duration       Duration
//	years-months duration    YearMonthDuration
//	date                     Date
//	date and time            DateTime (local, with offset, or with an IANA zone)
//
// # Supported subset
//
//   - Literals: numbers (1, .5, -2, 1.25), strings with escapes (\" \\ \n \r
//     \t \' \uXXXX; other backslash sequences are kept, so "\d+" is a regex),
//     true, false, null, lists [1, 2], contexts {a: 1, "b": 2, c: a + 1}
//     whose entries see the earlier ones, and temporal literals @"2024-01-31",
//     @"2024-01-31T10:00:00Z", @"P1D". Comments // and /* */.
//   - Names and paths: x, a.b.c, back-quoted names order.`total price`. A
//     path on a list projects it: [{a:1},{a:2}].a = [1, 2]. Dates, date-times
//     and durations have properties (year, month, day, weekday, hour, minute,
//     second; days, hours, minutes, seconds; years, months).
//   - Filters: list[1] (1-based, negative from the end, out of range → null),
//     list[item > 2], list[x = p] (the element is "item"; a context element's
//     entries are in scope). A filter that is neither a literal number nor a
//     condition is first evaluated outside the element scope: a number there
//     is an index, otherwise it is a condition.
//   - if c then a else b (a non-boolean condition takes the else branch);
//     some/every x in xs[, y in ys] satisfies c; for x in xs[, y in ys]
//     return e with integer ranges (for i in 1..n, descending if n < 1);
//     user-defined functions "function(a, b) a < b" (for sort, or in contexts).
//   - Comparison = != < <= > >= on numbers, strings, dates, date-times and
//     durations (booleans, lists and contexts for = and != only); x between a
//     and b; x in (1..5), [1..5], ]1..5[, (1, 2, 3), [1, 2, 3], (< 3, > 10);
//     x instance of number/string/boolean/context/list/date/date and time/
//     days and time duration/years and months duration/function/Any/Null.
//     Comparing different types gives null and NOT_COMPARABLE, except that
//     anything can be compared with null by = and != (x = null is true when
//     x is null or missing).
//   - Three-valued and/or; not(x) is a function.
//   - Arithmetic + - * / ** and unary minus on numbers; + on strings; date,
//     date-time and duration arithmetic (date + duration, date - date,
//     duration * number, …). Division by zero and other failures give null.
//   - Built-in functions: not, all, any; count, sum, product, mean, min, max,
//     append, concatenate, list contains, distinct values, flatten, sort (with
//     an optional precedence function), string join (1, 2 or 4 arguments),
//     reverse, index of, sublist, is empty; get or else, is defined, context
//     merge (a list of contexts or several arguments), context put, context,
//     get value (a key or a list of keys), get entries; string, number (with
//     optional separators), string length, substring, substring before,
//     substring after, upper case, lower case, contains, starts with, ends
//     with, matches, replace, split; abs, floor, ceiling (optional scale),
//     decimal, round half up, round half down, round up, round down, modulo,
//     odd, even, sqrt, log, exp; duration, years and months duration, now,
//     today, date and time, date; and Zeebe's cycle(3, duration("PT1H")) =
//     "R3/PT1H", cycle(duration("PT1H")) = "R/PT1H".
//
// # Differences from feel-scala
//
//   - Not supported (Parse fails or the call gives NO_FUNCTION_FOUND): names
//     containing spaces or operators other than the built-ins' own names;
//     named arguments; unary-test expressions on their own ("< 5", "?");
//     range values outside "in" and "for"; the time type and time(),
//     date and time(date, time), time zones in ISO "[Zone]" syntax; typed
//     lists in "instance of"; "partial" in for; the rarely used built-ins
//     (median, stddev, mode, insert before, remove, union, week of year, uuid,
//     string/list functions added after 1.17, …).
//   - Regular expressions use Go's RE2 syntax: the common subset of Java's,
//     without back-references or look-arounds; flags i, s and m.
//   - Unary minus binds tighter than **, so -2 ** 2 = 4. sum([]) = 0;
//     mean([]), min([]) and max([]) are null; string(null) is null.
//   - Warning types and texts follow feel-scala's where known; failures of
//     arithmetic (division by zero, overflow) and evaluations stopped by the
//     safety limits (5 million evaluation steps, 64 nested user-function
//     calls, 16 MiB strings) are reported as FAILED_TO_EVALUATE_EXPRESSION.
//   - ToJSON writes contexts with sorted keys (Go maps have no insertion
//     order) and writes non-integral numbers, and integral ones beyond 64
//     bits, as the shortest float64 text, since Zeebe stores them as doubles.
//     String renderings of dates with zone ids follow java.time in JSON
//     ("2024-01-31T10:00:00+01:00[Europe/Berlin]") and FEEL in string()
//     ("2024-01-31T10:00:00@Europe/Berlin").
package feel
