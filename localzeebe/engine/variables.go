package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// kv is one variable of a document, its value as compact JSON.
type kv struct {
	name string
	raw  json.RawMessage
}

// ErrInvalidDocument classifies a variables document that is not a JSON object.
var ErrInvalidDocument = errors.New("invalid variables document")

// documentError is an invalid document, with the text Zeebe's gateway gives.
type documentError struct{ msg string }

func (e *documentError) Error() string        { return e.msg }
func (e *documentError) Is(target error) bool { return target == ErrInvalidDocument }

func invalidDocument(format string, args ...any) error {
	return &documentError{msg: fmt.Sprintf(format, args...)}
}

// ParseDocument reads a variables document, keeping its order. An empty or
// blank document, and JSON null, are the empty document, as in Zeebe.
func ParseDocument(doc []byte) ([]kv, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, invalidDocument("Invalid JSON value: %s", doc)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		kind := "VALUE"
		switch {
		case ok && d == '[':
			kind = "ARRAY"
		case tok == nil:
			kind = "NIL"
		}
		return nil, invalidDocument("Expected document to be a root level object, but was '%s'", kind)
	}
	var out []kv
	idx := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, invalidDocument("Invalid JSON value: %s", doc)
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, invalidDocument("Invalid JSON value: %s", doc)
		}
		norm, err := normalize(raw)
		if err != nil {
			return nil, invalidDocument("Invalid JSON value: %s", doc)
		}
		if i, ok := idx[name]; ok { // a repeated key: the last value wins
			out[i].raw = norm
			continue
		}
		idx[name] = len(out)
		out = append(out, kv{name: name, raw: norm})
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalidDocument("Invalid JSON value: %s", doc)
	}
	if dec.More() {
		return nil, invalidDocument("Invalid JSON value: %s", doc)
	}
	return out, nil
}

// normalize re-encodes a JSON value the way Zeebe's round trip through
// MessagePack does: compact, object keys in their order, strings with no
// escapes beyond what JSON needs (a client's "\u003c" comes back as "<", so a
// document of markup keeps its size), numbers as written.
func normalize(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b bytes.Buffer
	// needComma[i]: the container at depth i has had an element; inKey: the
	// next string in an object is a key.
	var needComma []bool
	var inObject []bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			b.WriteByte(byte(d))
			needComma, inObject = needComma[:len(needComma)-1], inObject[:len(inObject)-1]
			expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			continue
		}
		if n := len(needComma); n > 0 {
			isValue := inObject[n-1] && !expectKey
			if !isValue && needComma[n-1] {
				b.WriteByte(',')
			}
			if !isValue {
				needComma[n-1] = true
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			b.WriteByte(byte(v))
			needComma = append(needComma, false)
			inObject = append(inObject, v == '{')
			expectKey = v == '{'
			continue
		case string:
			b.Write(marshal(v))
		case json.Number:
			b.WriteString(v.String())
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case nil:
			b.WriteString("null")
		}
		if n := len(inObject); n > 0 && inObject[n-1] {
			if expectKey {
				b.WriteByte(':')
			}
			expectKey = !expectKey
		}
	}
	return b.Bytes(), nil
}

// encodeDocument writes variables as one JSON object, in order.
func encodeDocument(vars []kv) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range vars {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshal(v.name))
		b.WriteByte(':')
		b.Write(v.raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func docOrEmpty(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return json.RawMessage(`{}`)
	}
	return raw
}

// scope returns the variable scope of key, creating it with its parent.
func (p *proc) scope(key, parent, pi int64, def *procDef) *scopeVars {
	sv := p.st.vars[key]
	if sv == nil {
		sv = &scopeVars{vals: map[string]json.RawMessage{}, keys: map[string]int64{}, parent: parent, pi: pi, def: def}
		p.st.vars[key] = sv
	}
	return sv
}

// scopeOf returns the variable scope of an element instance.
func (p *proc) scopeOf(ei *elemInst) *scopeVars {
	return p.scope(ei.key, ei.flowScope, ei.pi, ei.def)
}

// setLocal creates or updates a variable in the scope; an update to the same
// value writes nothing, as in Zeebe.
func (p *proc) setLocal(scopeKey int64, sv *scopeVars, name string, raw json.RawMessage) {
	old, ok := sv.vals[name]
	if ok && bytes.Equal(old, raw) {
		return
	}
	v := VariableValue{Name: name, Value: string(raw), ScopeKey: scopeKey, ProcessInstanceKey: sv.pi,
		ProcessDefinitionKey: sv.def.key, BpmnProcessID: sv.def.id, TenantID: DefaultTenant}
	if ok {
		sv.vals[name] = raw
		p.event(VTVariable, "UPDATED", sv.keys[name], v)
		return
	}
	k := p.st.nextKey()
	sv.names = append(sv.names, name)
	sv.vals[name] = raw
	sv.keys[name] = k
	p.event(VTVariable, "CREATED", k, v)
}

// propagate merges a document the Zeebe way: each variable updates the nearest
// scope, from start upwards, that has it; the others are created in the root.
func (p *proc) propagate(start int64, vars []kv) {
	for _, v := range vars {
		key := start
		var target *scopeVars
		var targetKey int64
		for key > 0 {
			sv := p.st.vars[key]
			if sv == nil {
				ei := p.st.elems[key]
				if ei == nil {
					break
				}
				key = ei.flowScope
				continue
			}
			if _, ok := sv.vals[v.name]; ok {
				target, targetKey = sv, key
				break
			}
			if sv.parent <= 0 {
				break
			}
			key = sv.parent
		}
		if target == nil {
			root := p.rootOf(start)
			target, targetKey = p.scopeOf(root), root.key
		}
		p.setLocal(targetKey, target, v.name, v.raw)
	}
}

// rootOf returns the process instance an element instance or scope belongs to.
func (p *proc) rootOf(key int64) *elemInst {
	if ei := p.st.elems[key]; ei != nil {
		return p.st.elems[ei.pi]
	}
	if sv := p.st.vars[key]; sv != nil {
		return p.st.elems[sv.pi]
	}
	return nil
}

// parentOf is the scope above key, for variables.
func (p *proc) parentOf(key int64) int64 {
	if sv := p.st.vars[key]; sv != nil {
		return sv.parent
	}
	if ei := p.st.elems[key]; ei != nil {
		return ei.flowScope
	}
	return -1
}

// lookupRaw finds a variable visible from scope key.
func (p *proc) lookupRaw(key int64, name string) (json.RawMessage, bool) {
	for key > 0 {
		if sv := p.st.vars[key]; sv != nil {
			if raw, ok := sv.vals[name]; ok {
				return raw, true
			}
		}
		key = p.parentOf(key)
	}
	return nil, false
}

// lookup gives FEEL the variables visible from a scope; extra shadows them.
func (p *proc) lookup(key int64, extra map[string]any) feel.Lookup {
	return func(name string) (any, bool) {
		if v, ok := extra[name]; ok {
			return v, true
		}
		raw, ok := p.lookupRaw(key, name)
		if !ok {
			return nil, false
		}
		v, err := feel.FromJSON(raw)
		if err != nil {
			return nil, false
		}
		return v, true
	}
}

// visible collects every variable visible from scope key, inner scopes
// shadowing outer ones; with names, only those.
func (p *proc) visible(key int64, names []string) json.RawMessage {
	return encodeDocument(p.visibleVars(key, names))
}

// visibleVars is visible's variables in document order.
func (p *proc) visibleVars(key int64, names []string) []kv {
	var out []kv
	seen := map[string]bool{}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var chain []*scopeVars
	for k := key; k > 0; k = p.parentOf(k) {
		if sv := p.st.vars[k]; sv != nil {
			chain = append(chain, sv)
		}
	}
	// Outer scopes first keeps the document in creation order; inner values win.
	vals := map[string]json.RawMessage{}
	for i := len(chain) - 1; i >= 0; i-- {
		sv := chain[i]
		for _, n := range sv.names {
			if len(want) > 0 && !want[n] {
				continue
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, kv{name: n})
			}
			vals[n] = sv.vals[n]
		}
	}
	for i := range out {
		out[i].raw = vals[out[i].name]
	}
	return out
}

// deleteScope removes an element instance's variables.
func (p *proc) deleteScope(key int64) { delete(p.st.vars, key) }

// expression returns the parsed expression of a BPMN attribute that starts with '='.
func (p *proc) expression(src string) (*feel.Expression, error) {
	if e, ok := p.st.exprs[src]; ok {
		return e, nil
	}
	e, err := feel.Parse(strings.TrimPrefix(strings.TrimSpace(src), "="))
	if err != nil {
		return nil, err
	}
	p.st.exprs[src] = e
	return e, nil
}

// evalError is an expression failure that becomes an incident.
type evalError struct {
	errorType string
	message   string
}

func (e *evalError) Error() string { return e.message }

// evaluate evaluates an attribute (static or '=' expression) in a scope.
func (p *proc) evaluate(attr string, scope int64, extra map[string]any) (any, []feel.Warning, error) {
	if !feel.IsExpression(strings.TrimSpace(attr)) {
		return feel.Static(attr), nil, nil
	}
	ex, err := p.expression(attr)
	if err != nil {
		return nil, nil, &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("failed to evaluate expression '%s': %v", strings.TrimPrefix(strings.TrimSpace(attr), "="), err)}
	}
	// The command's timestamp, not the wall clock: replaying the log must decide the same.
	res := ex.EvalAt(p.lookup(scope, extra), time.UnixMilli(p.now))
	return res.Value, res.Warnings, nil
}

// evaluateAs evaluates and checks the result's type (as Zeebe's typeCheck does).
func (p *proc) evaluateAs(attr string, scope int64, extra map[string]any, want ...string) (any, error) {
	v, warnings, err := p.evaluate(attr, scope, extra)
	if err != nil {
		return nil, err
	}
	got := feel.TypeName(v)
	for _, w := range want {
		if got == w {
			return v, nil
		}
	}
	msg := fmt.Sprintf("Expected result of the expression '%s' to be '%s', but was '%s'.",
		strings.TrimPrefix(strings.TrimSpace(attr), "="), strings.Join(want, "' or '"), got)
	if len(warnings) > 0 {
		var ws []string
		for _, w := range warnings {
			ws = append(ws, w.String())
		}
		msg += " The evaluation reported the following warnings:\n" + strings.Join(ws, "\n")
	}
	return nil, &evalError{"EXTRACT_VALUE_ERROR", msg}
}

// applyMappings evaluates mappings, in order, into a document: later mappings
// see earlier targets, as Zeebe's single context expression does.
func (p *proc) applyMappings(mappings []mapping, scope int64, base map[string]any) ([]kv, error) {
	extra := map[string]any{}
	for k, v := range base {
		extra[k] = v
	}
	var out []kv
	result := map[string]any{}
	var order []string
	for _, m := range mappings {
		v, _, err := p.evaluate(m.source, scope, extra)
		if err != nil {
			return nil, &evalError{"IO_MAPPING_ERROR", err.Error()}
		}
		parts := strings.Split(m.target, ".")
		if len(parts) == 1 {
			if _, ok := result[m.target]; !ok {
				order = append(order, m.target)
			}
			result[m.target] = v
			extra[m.target] = v
			continue
		}
		// A nested target merges into the existing context (or a new one).
		top := parts[0]
		cur, ok := result[top]
		if !ok {
			// Outputs merge into the variable as it is (context merge); inputs start afresh.
			if raw, found := p.lookupRaw(scope, top); found && base != nil {
				cur, _ = feel.FromJSON(raw)
			} else if bv, found := extra[top]; found {
				cur = bv
			}
			order = append(order, top)
		}
		result[top] = setPath(cur, parts[1:], v)
		extra[top] = result[top]
	}
	for _, name := range order {
		raw, err := feel.ToJSON(result[name])
		if err != nil {
			return nil, &evalError{"IO_MAPPING_ERROR", fmt.Sprintf("failed to map variable '%s': %v", name, err)}
		}
		out = append(out, kv{name: name, raw: raw})
	}
	return out, nil
}

// setPath returns ctx with path set to v, copying the maps it changes.
func setPath(ctx any, path []string, v any) any {
	m, ok := ctx.(map[string]any)
	nm := map[string]any{}
	if ok {
		for k, x := range m {
			nm[k] = x
		}
	}
	if len(path) == 1 {
		nm[path[0]] = v
		return nm
	}
	nm[path[0]] = setPath(nm[path[0]], path[1:], v)
	return nm
}

type mapping struct{ source, target string }
