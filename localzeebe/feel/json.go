package feel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// FromJSON decodes a JSON document (any JSON value) into FEEL values:
// objects become map[string]any, arrays []any, numbers Number (exactly, so
// 2251799813685249 and 0.1 survive), strings, booleans and null as they are.
func FromJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("feel: unexpected data after the JSON value")
	}
	return fromDecoded(v)
}

func fromDecoded(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		n, err := ParseNumber(string(x))
		if err != nil {
			return nil, fmt.Errorf("feel: number %s: %w", x, err)
		}
		return n, nil
	case []any:
		for i, e := range x {
			c, err := fromDecoded(e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case map[string]any:
		for k, e := range x {
			c, err := fromDecoded(e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	}
	return v, nil
}

// ToJSON encodes a FEEL value as JSON the way Zeebe stores results: whole
// numbers that fit 64 bits as integers (3, not 3.0), other numbers as the
// shortest float64 text (Zeebe stores them as doubles), durations, dates and
// date-times as ISO-8601 strings, contexts as objects with their keys in
// sorted (byte) order, lists as arrays and null as null. Strings are not
// HTML-escaped ('<', '>' and '&' stay as they are). Plain Go scalars (int,
// float64, …) are accepted too; functions cannot be encoded.
func ToJSON(v any) ([]byte, error) {
	return appendJSON(nil, v)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case Number:
		return x.appendJSON(b), nil
	case string:
		return appendJSONString(b, x), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		b = append(b, '{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case Duration, YearMonthDuration, Date:
		return appendJSONString(b, x.(fmt.Stringer).String()), nil
	case DateTime:
		return appendJSONString(b, x.isoString()), nil
	}
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, json.Number, time.Duration, time.Time:
		return appendJSON(b, normalizeScalar(v))
	case []string:
		return appendJSON(b, Normalize(v))
	}
	return nil, fmt.Errorf("feel: cannot encode a value of type %T as JSON", v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s, escaping only what JSON requires (quotes,
// backslashes, control characters); invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
