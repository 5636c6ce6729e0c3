package jobtoken

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Canonical returns a JSON document in a fixed form that any faithful
// re-serialisation of it maps to the same bytes: object keys sorted, no
// insignificant space, integers in plain decimal, other numbers in Go's
// shortest float64 form, strings as Go escapes them. An empty document is
// null.
func Canonical(doc json.RawMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeCanonical(&b, doc, SealV1); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writer is what the canonical forms are written to: a bytes.Buffer, or a
// bufio.Writer in front of the seal's HMAC.
type writer interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
	WriteRune(r rune) (int, error)
}

// maxDepth is encoding/json's limit on nesting, which both forms keep.
const maxDepth = 10000

// writeCanonical writes doc in the canonical form of seal version v (SealV1:
// Canonical; SealV2: CanonicalJCS) to w, streamed from doc's bytes: no tree
// of the document is built, and strings, numbers and arrays are written as
// they are read. Only an object's members are gathered (key and where its
// value lies) to be sorted. The bytes are those of decoding doc with
// encoding/json (UseNumber) and writing the tree, and the same documents
// are refused (the differential tests hold the two together): the first
// value counts, encoding/json's syntax and nesting limit, invalid UTF-8 and
// lone surrogates as U+FFFD, the last of duplicate keys.
func writeCanonical(w writer, doc []byte, v int) error {
	if len(bytes.TrimSpace(doc)) == 0 {
		_, err := w.WriteString("null")
		return err
	}
	if len(doc) > math.MaxInt32 {
		return fmt.Errorf("not JSON: a document of %d bytes is too large to canonicalise", len(doc))
	}
	c := &canon{doc: doc, w: w, v: v}
	start := skipSpace(doc, 0)
	end, ok := c.scan(start, 0, false)
	if !ok {
		var raw json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(doc)).Decode(&raw); err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		return errors.New("not JSON") // encoding/json took it: the differential tests say this never happens
	}
	if v == SealV2 {
		// Another value after the document (not garbage, which a decoder
		// stops at): encoding/json's Token tells, as the tree version asked it.
		if _, err := json.NewDecoder(bytes.NewReader(doc[end:])).Token(); err == nil {
			return fmt.Errorf("not JSON: data after the document")
		}
	}
	if _, err := c.value(start); err != nil {
		return err
	}
	return nil
}

// canon is one document being written.
type canon struct {
	doc []byte
	w   writer
	v   int
	// spans are where the objects and arrays that are members' values start
	// and end, in the order they start: an object's members are gathered by
	// jumping over their values, so no value is read twice per level.
	spans []span
	num   big.Int // reused for integers
}

type span struct{ start, end int32 }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && isSpace(doc[i]) {
		i++
	}
	return i
}

// scan checks the value at i as encoding/json's scanner does and returns
// where it ends; member: it is an object member's value, whose span is kept.
func (c *canon) scan(i, depth int, member bool) (int, bool) {
	doc := c.doc
	if i >= len(doc) {
		return i, false
	}
	switch ch := doc[i]; {
	case ch == '{' || ch == '[':
		if depth++; depth > maxDepth {
			return i, false
		}
		k := -1
		if member {
			k = len(c.spans)
			c.spans = append(c.spans, span{start: int32(i)})
		}
		end, ok := c.scanContainer(i, depth)
		if ok && k >= 0 {
			c.spans[k].end = int32(end)
		}
		return end, ok
	case ch == '"':
		end, _, ok := scanString(doc, i)
		return end, ok
	case ch == '-' || ('0' <= ch && ch <= '9'):
		return scanNumber(doc, i)
	case ch == 't':
		return i + 4, bytes.HasPrefix(doc[i:], []byte("true"))
	case ch == 'f':
		return i + 5, bytes.HasPrefix(doc[i:], []byte("false"))
	case ch == 'n':
		return i + 4, bytes.HasPrefix(doc[i:], []byte("null"))
	}
	return i, false
}

func (c *canon) scanContainer(i, depth int) (int, bool) {
	doc := c.doc
	object := doc[i] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == closing {
		return i + 1, true
	}
	for {
		var ok bool
		if object {
			if i >= len(doc) || doc[i] != '"' {
				return i, false
			}
			if i, _, ok = scanString(doc, i); !ok {
				return i, false
			}
			if i = skipSpace(doc, i); i >= len(doc) || doc[i] != ':' {
				return i, false
			}
			i = skipSpace(doc, i+1)
		}
		if i, ok = c.scan(i, depth, object); !ok {
			return i, false
		}
		switch i = skipSpace(doc, i); {
		case i >= len(doc):
			return i, false
		case doc[i] == ',':
			i = skipSpace(doc, i+1)
		case doc[i] == closing:
			return i + 1, true
		default:
			return i, false
		}
	}
}

// scanString returns the end of the string at i (after its closing quote)
// and whether it holds an escape.
func scanString(doc []byte, i int) (end int, escaped, ok bool) {
	for i++; i < len(doc); i++ {
		switch ch := doc[i]; {
		case ch == '"':
			return i + 1, escaped, true
		case ch < 0x20:
			return i, escaped, false
		case ch == '\\':
			escaped = true
			if i++; i >= len(doc) {
				return i, escaped, false
			}
			switch doc[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(doc) {
					return i, escaped, false
				}
				for _, h := range doc[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, escaped, false
					}
				}
				i += 4
			default:
				return i, escaped, false
			}
		}
	}
	return i, escaped, false
}

// scanNumber returns the end of the number at i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(doc []byte, i int) (int, bool) {
	digits := func(i int) (int, bool) {
		start := i
		for i < len(doc) && '0' <= doc[i] && doc[i] <= '9' {
			i++
		}
		return i, i > start
	}
	if doc[i] == '-' {
		i++
	}
	var ok bool
	switch {
	case i < len(doc) && doc[i] == '0':
		i++
	default:
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	if i < len(doc) && doc[i] == '.' {
		if i, ok = digits(i + 1); !ok {
			return i, false
		}
	}
	if i < len(doc) && (doc[i] == 'e' || doc[i] == 'E') {
		i++
		if i < len(doc) && (doc[i] == '+' || doc[i] == '-') {
			i++
		}
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	return i, true
}

// end returns where the value at i ends, once scan has checked it.
func (c *canon) end(i int) int {
	switch ch := c.doc[i]; {
	case ch == '{' || ch == '[':
		k, _ := slices.BinarySearchFunc(c.spans, int32(i), func(s span, i int32) int { return cmp.Compare(s.start, i) })
		return int(c.spans[k].end)
	case ch == '"':
		end, _, _ := scanString(c.doc, i)
		return end
	case ch == 't' || ch == 'n':
		return i + 4
	case ch == 'f':
		return i + 5
	}
	end, _ := scanNumber(c.doc, i)
	return end
}

// member is one of an object's members: its key, and where its value starts.
type member struct {
	key   string
	value int
}

// value writes the checked value at i in canonical form and returns where
// it ends.
func (c *canon) value(i int) (int, error) {
	doc, w := c.doc, c.w
	switch ch := doc[i]; {
	case ch == '{':
		var ms []member
		i = skipSpace(doc, i+1)
		for doc[i] != '}' {
			end, escaped, _ := scanString(doc, i)
			key := decodeString(doc[i:end], escaped)
			i = skipSpace(doc, skipSpace(doc, end)+1) // past the colon
			ms = append(ms, member{key: key, value: i})
			if i = skipSpace(doc, c.end(i)); doc[i] == ',' {
				i = skipSpace(doc, i+1)
			}
		}
		order := strings.Compare // Go sorts map keys by their bytes
		if c.v == SealV2 {
			order = compareUTF16 // RFC 8785 by UTF-16 code units
		}
		// Stable, so that of equal keys the last one, which a map keeps, is last.
		slices.SortStableFunc(ms, func(a, b member) int { return order(a.key, b.key) })
		_ = w.WriteByte('{')
		first := true
		for k, m := range ms {
			if k+1 < len(ms) && ms[k+1].key == m.key {
				continue
			}
			if !first {
				_ = w.WriteByte(',')
			}
			first = false
			c.string(m.key)
			_ = w.WriteByte(':')
			if _, err := c.value(m.value); err != nil {
				return 0, err
			}
		}
		return i + 1, w.WriteByte('}')
	case ch == '[':
		_ = w.WriteByte('[')
		i = skipSpace(doc, i+1)
		for first := true; doc[i] != ']'; first = false {
			if !first {
				_ = w.WriteByte(',')
			}
			end, err := c.value(i)
			if err != nil {
				return 0, err
			}
			if i = skipSpace(doc, end); doc[i] == ',' {
				i = skipSpace(doc, i+1)
			}
		}
		return i + 1, w.WriteByte(']')
	case ch == '"':
		end, escaped, _ := scanString(doc, i)
		raw := doc[i:end]
		if !escaped && utf8.Valid(raw) && (c.v == SealV2 || !needsGoEscape(raw)) {
			_, err := w.Write(raw) // as written is as canonical
			return end, err
		}
		c.string(decodeString(raw, escaped))
		return end, nil
	case ch == 't' || ch == 'n' || ch == 'f':
		end := c.end(i)
		_, err := w.Write(doc[i:end])
		return end, err
	}
	end := c.end(i)
	if lit := doc[i:end]; !bytes.ContainsAny(lit, ".eE") && string(lit) != "-0" {
		// An integer literal has no leading zeros: it is its exact decimal
		// value already, in both forms.
		_, err := w.Write(lit)
		return end, err
	}
	s, err := c.number(string(doc[i:end]))
	if err != nil {
		return 0, err
	}
	_, err = w.WriteString(s)
	return end, err
}

// needsGoEscape: encoding/json writes these (in an unescaped, valid UTF-8
// string) other than as they are: <, >, & and U+2028, U+2029.
func needsGoEscape(raw []byte) bool {
	return bytes.ContainsAny(raw, "<>&\u2028\u2029")
}

// decodeString returns the string literal raw reads as: encoding/json's
// reading (invalid UTF-8 and lone surrogates as U+FFFD).
func decodeString(raw []byte, escaped bool) string {
	if !escaped && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // checked by scan
	return s
}

// string writes s as the form's strings are written.
func (c *canon) string(s string) {
	if c.v == SealV2 {
		writeJCSString(c.w, s)
		return
	}
	b, _ := json.Marshal(s) // a string always encodes
	_, _ = c.w.Write(b)
}

// number returns a number literal in the form's canonical form.
func (c *canon) number(s string) (string, error) {
	if c.v == SealV2 {
		return jcsNumber(s)
	}
	return goNumber(s, &c.num)
}

// goNumber is seal version 1's number: an integer literal exactly, any other
// as a float64, integral ones within ±2^53 as integers, the rest in Go's
// shortest form.
func goNumber(s string, i *big.Int) (string, error) {
	if !strings.ContainsAny(s, ".eE") {
		if _, ok := i.SetString(s, 10); !ok {
			return "", fmt.Errorf("bad integer %q", s)
		}
		return i.String(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("bad number %q: %w", s, err)
	}
	if f == float64(int64(f)) && f >= -1<<53 && f <= 1<<53 {
		// 1.0, 1e5 and 100000 are one number to a reader that converts
		// integral floats (Python's json keeps them apart, JavaScript does not).
		return strconv.FormatInt(int64(f), 10), nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}
