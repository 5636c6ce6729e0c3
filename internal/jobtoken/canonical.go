package jobtoken

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Canonical returns a JSON document in a fixed form that any faithful
// re-serialisation of it maps to the same bytes: object keys sorted, no
// insignificant space, integers in plain decimal, other numbers in Go's
// shortest float64 form, strings as Go escapes them. An empty document is
// null.
func Canonical(doc json.RawMessage) (json.RawMessage, error) {
	v, empty, _, err := decodeDocument(doc)
	switch {
	case err != nil:
		return nil, err
	case empty:
		return json.RawMessage("null"), nil
	}
	v, err = normalise(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v) // sorts map keys
}

// decodeDocument reads doc with every number as written (json.Number), for
// both seal versions' canonical forms. empty: doc holds nothing but space;
// trailing: more data follows the document (version 2 refuses it).
func decodeDocument(doc json.RawMessage) (v any, empty, trailing bool, err error) {
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

func normalise(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			n, err := normalise(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := normalise(e)
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
