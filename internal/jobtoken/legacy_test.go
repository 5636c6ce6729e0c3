package jobtoken

// The canonicalisation as it was before it was streamed (commit 75e6c38):
// a tree of any, then json.Marshal or writeJCS into a buffer. The
// benchmark measures it beside the streamed one, and the differential
// tests hold the two to the same bytes and the same refusals.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// legacyCanonicalOutcome is the content Seal covers, in the form o.SealVersion
// names; docs/contract.md spells out both.
func legacyCanonicalOutcome(o jobmsg.Outcome) ([]byte, error) {
	switch o.SealVersion {
	case 0, SealV1:
		return legacyCanonicalOutcomeV1(o)
	case SealV2:
		return legacyCanonicalOutcomeV2(o)
	default:
		return nil, fmt.Errorf("unknown seal version %d (this build knows %d and %d)", o.SealVersion, SealV1, SealV2)
	}
}

// legacyCanonicalOutcomeV2 is the content of a SealV2 seal: an object with every
// field (zero values included, so no rule decides which to omit) and
// sealVersion itself, which keeps it apart from any SealV1 content.
func legacyCanonicalOutcomeV2(o jobmsg.Outcome) ([]byte, error) {
	vars, err := legacyCanonicalJCS(o.Variables)
	if err != nil {
		return nil, fmt.Errorf("the outcome's variables: %w", err)
	}
	num := func(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }
	var b bytes.Buffer
	err = legacyWriteJCS(&b, map[string]any{
		"sealVersion":    num(SealV2),
		"jobKey":         num(o.JobKey),
		"outcome":        string(o.Outcome),
		"variables":      vars,
		"errorCode":      o.ErrorCode,
		"errorMessage":   o.ErrorMessage,
		"retries":        num(int64(o.Retries)),
		"retryBackoffMs": num(o.RetryBackoffMs),
		"async":          o.Async,
		"deadline":       num(o.Deadline),
		"timeoutMs":      num(o.TimeoutMs),
	})
	return b.Bytes(), err
}

// legacyCanonicalOutcomeV1 is what a SealV1 seal covers: every field that decides what the
// fulfiller does, in a fixed form.
func legacyCanonicalOutcomeV1(o jobmsg.Outcome) ([]byte, error) {
	vars, err := legacyCanonical(o.Variables)
	if err != nil {
		return nil, fmt.Errorf("the outcome's variables: %w", err)
	}
	return json.Marshal(struct {
		JobKey         int64           `json:"jobKey"`
		Outcome        jobmsg.Kind     `json:"outcome"`
		Variables      json.RawMessage `json:"variables"`
		ErrorCode      string          `json:"errorCode"`
		ErrorMessage   string          `json:"errorMessage"`
		Retries        int32           `json:"retries"`
		RetryBackoffMs int64           `json:"retryBackoffMs"`
		// Empty for the outcomes of an invocation, so that their seal is
		// what it was before asynchronous completion existed.
		Async     bool  `json:"async,omitempty"`
		Deadline  int64 `json:"deadline,omitempty"`
		TimeoutMs int64 `json:"timeoutMs,omitempty"`
	}{o.JobKey, o.Outcome, vars, o.ErrorCode, o.ErrorMessage, o.Retries, o.RetryBackoffMs, o.Async, o.Deadline, o.TimeoutMs})
}

// legacyCanonical returns a JSON document in a fixed form that any faithful
// re-serialisation of it maps to the same bytes: object keys sorted, no
// insignificant space, integers in plain decimal, other numbers in Go's
// shortest float64 form, strings as Go escapes them. An empty document is
// null.
func legacyCanonical(doc json.RawMessage) (json.RawMessage, error) {
	v, empty, _, err := legacyDecodeDocument(doc)
	switch {
	case err != nil:
		return nil, err
	case empty:
		return json.RawMessage("null"), nil
	}
	v, err = legacyNormalise(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v) // sorts map keys
}

// legacyDecodeDocument reads doc with every number as written (json.Number), for
// both seal versions' canonical forms. empty: doc holds nothing but space;
// trailing: more data follows the document (version 2 refuses it).
func legacyDecodeDocument(doc json.RawMessage) (v any, empty, trailing bool, err error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, true, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false, false, fmt.Errorf("not JSON: %w", err)
	}
	_, err = dec.Token()
	return v, false, err == nil, nil
}

func legacyNormalise(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			n, err := legacyNormalise(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := legacyNormalise(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			i, ok := new(big.Int).SetString(s, 10)
			if !ok {
				return nil, fmt.Errorf("bad integer %q", s)
			}
			return json.Number(i.String()), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q: %w", s, err)
		}
		if f == float64(int64(f)) && f >= -1<<53 && f <= 1<<53 {
			// 1.0, 1e5 and 100000 are one number to a reader that converts
			// integral floats (Python's json keeps them apart, JavaScript does not).
			return json.Number(strconv.FormatInt(int64(f), 10)), nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return v, nil
}

// legacyCanonicalJCS returns doc in the canonical form of seal version 2: RFC 8785
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
func legacyCanonicalJCS(doc json.RawMessage) (json.RawMessage, error) {
	v, empty, trailing, err := legacyDecodeDocument(doc)
	switch {
	case err != nil:
		return nil, err
	case empty:
		return json.RawMessage("null"), nil
	case trailing:
		return nil, fmt.Errorf("not JSON: data after the document")
	}
	var b bytes.Buffer
	if err := legacyWriteJCS(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func legacyWriteJCS(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case json.RawMessage: // already canonical
		b.Write(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		legacyWriteJCSString(b, x)
	case json.Number:
		s, err := jcsNumber(string(x))
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := legacyWriteJCS(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// RFC 8785 sorts by UTF-16 code units, as JavaScript compares strings.
		slices.SortFunc(keys, func(a, b string) int {
			return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			legacyWriteJCSString(b, k)
			b.WriteByte(':')
			if err := legacyWriteJCS(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot canonicalise %T", v)
	}
	return nil
}

// legacyWriteJCSString escapes as ECMAScript's JSON.stringify does (RFC 8785
// section 3.2.2.2): '"', '\\' and the control characters, nothing else.
func legacyWriteJCSString(b *bytes.Buffer, s string) {
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

// sealOver is Seal's HMAC over content built in memory, as Seal was.
func sealOver(t *jobmsg.Token, content []byte) (string, error) {
	sig, err := base64.RawURLEncoding.DecodeString(t.Sig)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, sig)
	m.Write(content)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}
