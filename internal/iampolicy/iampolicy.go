// Package iampolicy evaluates AWS policy documents for a request, the way
// IAM does within one account: an explicit Deny in any policy wins, then an
// Allow in an identity policy or in the resource's policy, and otherwise the
// request is denied implicitly. The tests use it to show what the resource
// policies the modules deploy let a principal do, since LocalStack does not
// enforce them.
//
// It knows the parts of the policy language the bridge's policies use:
// Principal (AWS, Service, "*"), Action/NotAction, Resource/NotResource and
// the String, Arn and Bool condition operators, with IfExists. Anything else
// is an error rather than a guess.
//
// The rules: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Decision is the outcome of an evaluation.
type Decision int

// The three outcomes IAM knows.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny"}[d]
}

// ErrUnsupported is returned for a part of the policy language the package
// does not evaluate.
var ErrUnsupported = errors.New("iampolicy: unsupported")

// Policy is a policy document.
type Policy struct {
	Version   string
	Statement Statements
}

// Parse reads a policy document.
func Parse(doc string) (Policy, error) {
	var p Policy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return Policy{}, fmt.Errorf("iampolicy: parse: %w", err)
	}
	return p, nil
}

// Statements is a statement list; a single statement object is a list of one.
type Statements []Statement

// UnmarshalJSON takes an object or an array of them.
func (s *Statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one Statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Statements{one}
		return nil
	}
	var many []Statement
	err := json.Unmarshal(b, &many)
	*s = many
	return err
}

// Statement is one statement of a policy.
type Statement struct {
	Sid          string
	Effect       string
	Principal    *Principal
	NotPrincipal *Principal
	Action       Strings
	NotAction    Strings
	Resource     Strings
	NotResource  Strings
	Condition    map[string]map[string]Strings
}

// Principal is a statement's principal: "*" (Any), or ARNs and services.
type Principal struct {
	Any     bool
	AWS     Strings
	Service Strings
}

// UnmarshalJSON takes "*" or {"AWS": ..., "Service": ...}.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "*" {
			return fmt.Errorf("%w principal %q", ErrUnsupported, s)
		}
		p.Any = true
		return nil
	}
	var m map[string]Strings
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for k, v := range m {
		switch k {
		case "AWS":
			p.AWS = v
		case "Service":
			p.Service = v
		default:
			return fmt.Errorf("%w principal type %q", ErrUnsupported, k)
		}
	}
	return nil
}

// Strings is a string or a list of them; booleans and numbers are read as
// their JSON text, as IAM compares them.
type Strings []string

// UnmarshalJSON takes a value or a list of values.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var many []json.RawMessage
	if json.Unmarshal(b, &many) != nil {
		many = []json.RawMessage{b}
	}
	out := make(Strings, 0, len(many))
	for _, raw := range many {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			v = string(raw) // true, false, a number
		}
		out = append(out, v)
	}
	*s = out
	return nil
}

// Request is what a principal asks to do.
type Request struct {
	// PrincipalARN is the IAM role or user (for a role session, the role's
	// ARN, as in aws:PrincipalArn); Service is set instead for a service.
	PrincipalARN  string
	PrincipalTags map[string]string
	Service       string
	Action        string // "sns:Publish"
	Resource      string // an ARN
	// Context holds the other condition keys, such as "sns:Endpoint" or
	// "aws:SecureTransport" ("true"/"false").
	Context map[string][]string
}

// values returns a condition key's values in the request and whether it is
// present. Key names are case-insensitive, tag keys are not.
func (r Request) values(key string) ([]string, bool) {
	lower := strings.ToLower(key)
	switch {
	case lower == "aws:principalarn":
		return []string{r.PrincipalARN}, r.PrincipalARN != ""
	case strings.HasPrefix(lower, "aws:principaltag/"):
		v, ok := r.PrincipalTags[key[len("aws:principaltag/"):]]
		return []string{v}, ok
	}
	for k, v := range r.Context {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Evaluate decides a request within one account: identity holds the
// principal's own policies (their statements name no principal), resource
// the policies of the resource it asks for.
func Evaluate(req Request, identity, resource []Policy) (Decision, error) {
	d := ImplicitDeny
	for i, set := range [][]Policy{identity, resource} {
		for _, p := range set {
			for _, st := range p.Statement {
				applies, err := st.applies(req, i == 1)
				if err != nil {
					return ImplicitDeny, fmt.Errorf("statement %q: %w", st.Sid, err)
				}
				if !applies {
					continue
				}
				switch st.Effect {
				case "Deny":
					return ExplicitDeny, nil
				case "Allow":
					d = Allow
				default:
					return ImplicitDeny, fmt.Errorf("statement %q: effect %q", st.Sid, st.Effect)
				}
			}
		}
	}
	return d, nil
}

func (st Statement) applies(req Request, resourcePolicy bool) (bool, error) {
	if st.NotPrincipal != nil {
		return false, fmt.Errorf("%w NotPrincipal", ErrUnsupported)
	}
	if resourcePolicy {
		if st.Principal == nil || !st.Principal.matches(req) {
			return false, nil
		}
	} else if st.Principal != nil {
		return false, errors.New("a principal in an identity policy")
	}
	if !matchesAny(st.Action, st.NotAction, req.Action, true) || !matchesAny(st.Resource, st.NotResource, req.Resource, false) {
		return false, nil
	}
	for op, keys := range st.Condition {
		for key, want := range keys {
			ok, err := condition(op, key, want, req)
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func (p *Principal) matches(req Request) bool {
	if p.Any {
		return true
	}
	if req.Service != "" {
		for _, s := range p.Service {
			if s == req.Service {
				return true
			}
		}
		return false
	}
	for _, a := range p.AWS {
		if a == "*" || a == req.PrincipalARN || (a == accountOf(req.PrincipalARN)) || a == rootOf(req.PrincipalARN) {
			return true
		}
	}
	return false
}

// accountOf and rootOf: a principal "123456789012" or its root ARN stands
// for every principal of that account.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

func rootOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return strings.Join([]string{parts[0], parts[1], "iam", "", parts[4], "root"}, ":")
}

func matchesAny(in, notIn Strings, v string, fold bool) bool {
	if in == nil && notIn == nil {
		return false
	}
	match := func(list Strings) bool {
		for _, pat := range list {
			if glob(pat, v, fold) {
				return true
			}
		}
		return false
	}
	if notIn != nil {
		return !match(notIn)
	}
	return match(in)
}

// condition evaluates one operator on one key.
func condition(op, key string, want Strings, req Request) (bool, error) {
	ifExists := strings.HasSuffix(op, "IfExists")
	base := strings.TrimSuffix(op, "IfExists")
	var (
		negated bool
		match   func(pattern, value string) bool
	)
	switch base {
	case "StringEquals", "StringNotEquals":
		match = func(p, v string) bool { return p == v }
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "StringNotLike":
		match = func(p, v string) bool { return glob(p, v, false) }
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		match = arnLike
	case "Bool":
		match = func(p, v string) bool { return strings.EqualFold(p, v) }
	default:
		return false, fmt.Errorf("%w condition operator %q", ErrUnsupported, op)
	}
	negated = strings.Contains(base, "Not")
	got, present := req.values(key)
	if !present {
		// A missing key matches nothing: a positive operator is false, a
		// negated one true; IfExists makes either true.
		return ifExists || negated, nil
	}
	matched := false
	for _, v := range got {
		for _, p := range want {
			if match(p, v) {
				matched = true
			}
		}
	}
	return matched != negated, nil
}

// arnLike matches an ARN against a pattern component by component, each
// with wildcards, as ArnLike and ArnEquals do.
func arnLike(pattern, arn string) bool {
	p := strings.SplitN(pattern, ":", 6)
	a := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !glob(p[i], a[i], false) {
			return false
		}
	}
	return true
}

// glob matches v against a pattern with * (any run of characters) and ?
// (one character).
func glob(pattern, v string, fold bool) bool {
	if fold {
		pattern, v = strings.ToLower(pattern), strings.ToLower(v)
	}
	// Iterative matching with backtracking to the last star.
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == v[vi]):
			pi++
			vi++
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// Like reports whether v matches an IAM wildcard pattern (* and ?), as a
// Resource or StringLike does.
func Like(pattern, v string) bool { return glob(pattern, v, false) }
