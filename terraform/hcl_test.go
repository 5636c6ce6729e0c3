package terraform_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// module is a parsed Terraform module whose expressions the tests evaluate
// the way Terraform would at plan time, with input variables set by the test
// and every reference to another resource replaced by a placeholder string
// "${aws_sqs_queue.dlq.arn}", so a test can say which resource an attribute
// points at without an AWS account. A module it calls is loaded with the
// arguments of its module block; its placeholders carry its address
// ("${module.poller.aws_lambda_function.this[*].arn}"), and the parent's
// references to its outputs evaluate to what those outputs say.
type module struct {
	t         *testing.T
	dir       string
	prefix    string                      // "module.poller." in the bridge's child poller, "module.callback[*]." in its counted callback
	resources map[string]*hclsyntax.Block // "aws_sqs_queue.this"
	calls     map[string]*hclsyntax.Block // module blocks by name
	outputs   map[string]hclsyntax.Expression
	variables map[string]*hclsyntax.Block
	locals    map[string]hclsyntax.Expression
	vars      map[string]cty.Value
	children  map[string]*module
}

func loadModule(t *testing.T, dir string, vars map[string]cty.Value) *module {
	t.Helper()
	return loadModuleAt(t, dir, "", vars)
}

func loadModuleAt(t *testing.T, dir, prefix string, vars map[string]cty.Value) *module {
	t.Helper()
	m := &module{t: t, dir: dir, prefix: prefix, resources: map[string]*hclsyntax.Block{}, calls: map[string]*hclsyntax.Block{},
		outputs: map[string]hclsyntax.Expression{}, variables: map[string]*hclsyntax.Block{}, locals: map[string]hclsyntax.Expression{},
		children: map[string]*module{}}
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no .tf files in %s", dir)
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		require.False(t, diags.HasErrors(), "%s: %s", f, diags.Error())
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "resource":
				m.resources[b.Labels[0]+"."+b.Labels[1]] = b
			case "module":
				m.calls[b.Labels[0]] = b
			case "output":
				m.outputs[b.Labels[0]] = b.Body.Attributes["value"].Expr
			case "variable":
				m.variables[b.Labels[0]] = b
			case "locals":
				for name, a := range b.Body.Attributes {
					m.locals[name] = a.Expr
				}
			}
		}
	}
	m.vars = map[string]cty.Value{}
	for name, b := range m.variables {
		if a, ok := b.Body.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			require.False(t, diags.HasErrors(), "default of var.%s: %s", name, diags.Error())
			m.vars[name] = v
		}
	}
	for k, v := range vars {
		require.Contains(t, m.variables, k, "var.%s is set, but %s does not declare it", k, dir)
		m.vars[k] = v
	}
	// As Terraform does, an object takes the attributes its type declares
	// optional() and the test leaves out. Only such types are converted: the
	// tests pass placeholder strings where Terraform would have unknown
	// values of any type, and numbers where it would make them strings.
	for name, v := range m.vars {
		a, typed := m.variables[name].Body.Attributes["type"]
		if !typed || v.IsNull() {
			continue
		}
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		require.False(t, diags.HasErrors(), "type of var.%s: %s", name, diags.Error())
		if !hasOptional(ty) {
			continue
		}
		if defaults != nil {
			v = defaults.Apply(v)
		}
		if converted, err := convert.Convert(v, ty); err == nil {
			m.vars[name] = converted
		}
	}
	return m
}

// hasOptional says whether a type constraint declares optional attributes.
func hasOptional(ty cty.Type) bool {
	switch {
	case ty.IsObjectType():
		if len(ty.OptionalAttributes()) > 0 {
			return true
		}
		for _, at := range ty.AttributeTypes() {
			if hasOptional(at) {
				return true
			}
		}
	case ty.IsCollectionType():
		return hasOptional(ty.ElementType())
	}
	return false
}

// metaArguments of a module block are not input variables of the module.
var metaArguments = map[string]bool{"source": true, "count": true, "for_each": true, "depends_on": true, "providers": true, "version": true}

// child loads the module that the module block name calls, with its arguments.
func (m *module) child(name string) *module {
	m.t.Helper()
	if c, ok := m.children[name]; ok {
		return c
	}
	b, ok := m.calls[name]
	require.True(m.t, ok, "module %s not found in %s", name, m.dir)
	vars := map[string]cty.Value{}
	for k, a := range b.Body.Attributes {
		if !metaArguments[k] {
			vars[k] = m.eval(a.Expr)
		}
	}
	// Placeholders write an instance key as [*], as for resources.
	addr := m.prefix + "module." + name
	for _, meta := range []string{"count", "for_each"} {
		if _, ok := b.Body.Attributes[meta]; ok {
			addr += "[*]"
		}
	}
	c := loadModuleAt(m.t, filepath.Join(m.dir, m.eval(b.Body.Attributes["source"].Expr).AsString()), addr+".", vars)
	m.children[name] = c
	return c
}

// resolve follows "module.<name>." steps of an address to the module that
// declares the rest.
func (m *module) resolve(addr string) (*module, string) {
	m.t.Helper()
	for strings.HasPrefix(addr, "module.") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(addr, "module."), ".")
		require.True(m.t, ok, "address %s", addr)
		m, addr = m.child(name), rest
	}
	return m, addr
}

// instances is how many instances of a resource the plan has: its count,
// times the count of each module call on the way to it (no count: one).
func (m *module) instances(addr string) int64 {
	m.t.Helper()
	n := int64(1)
	for strings.HasPrefix(addr, "module.") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(addr, "module."), ".")
		require.True(m.t, ok, "address %s", addr)
		b, exists := m.calls[name]
		require.True(m.t, exists, "module %s not found in %s", name, m.dir)
		if c, counted := b.Body.Attributes["count"]; counted {
			k, _ := m.eval(c.Expr).AsBigFloat().Int64()
			n *= k
		}
		m, addr = m.child(name), rest
	}
	if _, counted := m.resource(addr).Body.Attributes["count"]; counted {
		n *= m.num(addr, "count")
	}
	return n
}

// resource returns a resource block of this module, failing the test when it
// is missing.
func (m *module) resource(addr string) *hclsyntax.Block {
	m.t.Helper()
	b, ok := m.resources[addr]
	require.True(m.t, ok, "resource %s not found in %s", addr, m.dir)
	return b
}

// attr evaluates an attribute of a resource, "nested.block.attr" for nested
// blocks; the address may lead into a module this one calls.
func (m *module) attr(addr, path string) cty.Value {
	m.t.Helper()
	if owner, local := m.resolve(addr); owner != m {
		return owner.attr(local, path)
	}
	body := m.resource(addr).Body
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		var next *hclsyntax.Body
		for _, b := range body.Blocks {
			if b.Type == p {
				next = b.Body
			}
		}
		require.NotNil(m.t, next, "%s has no block %s", addr, p)
		body = next
	}
	a, ok := body.Attributes[parts[len(parts)-1]]
	require.True(m.t, ok, "%s has no attribute %s", addr, path)
	return m.eval(a.Expr)
}

// str, num, json are typed views of attr.
func (m *module) str(addr, path string) string {
	m.t.Helper()
	v := m.attr(addr, path)
	require.Equal(m.t, cty.String, v.Type(), "%s.%s is %s", addr, path, v.Type().FriendlyName())
	return v.AsString()
}

func (m *module) num(addr, path string) int64 {
	m.t.Helper()
	v := m.attr(addr, path)
	require.Equal(m.t, cty.Number, v.Type(), "%s.%s", addr, path)
	n, _ := v.AsBigFloat().Int64()
	return n
}

func (m *module) jsonDoc(addr, path string, into any) {
	m.t.Helper()
	require.NoError(m.t, json.Unmarshal([]byte(m.str(addr, path)), into), "%s.%s", addr, path)
}

// validation evaluates the validation conditions of a variable with the given value.
func (m *module) validation(name string, value cty.Value) (ok bool, messages []string) {
	m.t.Helper()
	b, exists := m.variables[name]
	require.True(m.t, exists, "variable %s", name)
	saved := m.vars[name]
	m.vars[name] = value
	defer func() { m.vars[name] = saved }()
	ok = true
	for _, vb := range b.Body.Blocks {
		if vb.Type != "validation" {
			continue
		}
		c := m.eval(vb.Body.Attributes["condition"].Expr)
		if c.False() {
			ok = false
			messages = append(messages, m.eval(vb.Body.Attributes["error_message"].Expr).AsString())
		}
	}
	return ok, messages
}

// preconditions evaluates the lifecycle preconditions of a resource.
func (m *module) preconditions(addr string) (ok bool, messages []string) {
	m.t.Helper()
	ok = true
	for _, lb := range m.resource(addr).Body.Blocks {
		if lb.Type != "lifecycle" {
			continue
		}
		for _, pb := range lb.Body.Blocks {
			if pb.Type != "precondition" {
				continue
			}
			if m.eval(pb.Body.Attributes["condition"].Expr).False() {
				ok = false
				messages = append(messages, m.eval(pb.Body.Attributes["error_message"].Expr).AsString())
			}
		}
	}
	return ok, messages
}

func (m *module) eval(expr hclsyntax.Expression) cty.Value {
	m.t.Helper()
	v, diags := expr.Value(m.context(expr, 0))
	require.False(m.t, diags.HasErrors(), "%s", diags.Error())
	return v
}

func (m *module) context(expr hclsyntax.Expression, depth int) *hcl.EvalContext {
	m.t.Helper()
	require.Less(m.t, depth, 20, "locals refer to each other in a cycle")
	vars := map[string]cty.Value{"var": cty.ObjectVal(m.vars)}
	locals := map[string]cty.Value{}
	refs := newRefTree()
	outputs := map[string]map[string]bool{} // module call -> outputs referred to (none: all)
	for _, tr := range expr.Variables() {
		switch tr.RootName() {
		case "var":
		case "module":
			name := tr[1].(hcl.TraverseAttr).Name
			if outputs[name] == nil {
				outputs[name] = map[string]bool{}
			}
			for _, step := range tr[2:] {
				if a, ok := step.(hcl.TraverseAttr); ok {
					outputs[name][a.Name] = true
					break
				}
			}
		case "local":
			name := tr[1].(hcl.TraverseAttr).Name
			le, ok := m.locals[name]
			require.True(m.t, ok, "local.%s is not defined", name)
			v, diags := le.Value(m.context(le, depth+1))
			require.False(m.t, diags.HasErrors(), "local.%s: %s", name, diags.Error())
			locals[name] = v
		default:
			refs.add(tr)
		}
	}
	vars["local"] = cty.ObjectVal(locals)
	for root, v := range refs.values(m.prefix) {
		vars[root] = v
	}
	if len(outputs) > 0 {
		calls := map[string]cty.Value{}
		for name, wanted := range outputs {
			calls[name] = m.moduleValue(name, wanted)
		}
		vars["module"] = cty.ObjectVal(calls)
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

// moduleValue is module.<name> as the parent sees it: the outputs wanted (all
// if none is named), in a one-element tuple when the call is counted.
func (m *module) moduleValue(name string, wanted map[string]bool) cty.Value {
	m.t.Helper()
	c := m.child(name)
	out := map[string]cty.Value{}
	for o, e := range c.outputs {
		if len(wanted) == 0 || wanted[o] {
			out[o] = c.eval(e)
		}
	}
	for o := range wanted {
		require.Contains(m.t, out, o, "module %s has no output %s", name, o)
	}
	b := m.calls[name]
	if _, ok := b.Body.Attributes["count"]; ok {
		return cty.TupleVal([]cty.Value{cty.ObjectVal(out)})
	}
	if _, ok := b.Body.Attributes["for_each"]; ok {
		require.Fail(m.t, "for_each on a module call", "module %s: the tests do not evaluate for_each", name)
	}
	return cty.ObjectVal(out)
}

// refTree builds placeholder values for references to resources, data
// sources, modules, each and count.
type refTree struct {
	attrs map[string]*refTree
	index *refTree
	path  string
}

func newRefTree() *refTree { return &refTree{attrs: map[string]*refTree{}} }

func (r *refTree) add(tr hcl.Traversal) {
	node := r
	var path []string
	for _, step := range tr {
		var name string
		switch s := step.(type) {
		case hcl.TraverseRoot:
			name = s.Name
		case hcl.TraverseAttr:
			name = s.Name
		case hcl.TraverseIndex:
			if node.index == nil {
				node.index = newRefTree()
			}
			node = node.index
			path[len(path)-1] += "[*]"
			continue
		default:
			return
		}
		path = append(path, name)
		child, ok := node.attrs[name]
		if !ok {
			child = newRefTree()
			node.attrs[name] = child
		}
		node = child
	}
	node.path = strings.Join(path, ".")
}

// value renders the placeholders with the address prefix of the module the
// reference is in.
func (r *refTree) value(prefix string) cty.Value {
	switch {
	case r.index != nil:
		return cty.TupleVal([]cty.Value{r.index.value(prefix)})
	case len(r.attrs) > 0:
		obj := map[string]cty.Value{}
		for k, c := range r.attrs {
			obj[k] = c.value(prefix)
		}
		return cty.ObjectVal(obj)
	default:
		return cty.StringVal("${" + prefix + r.path + "}")
	}
}

func (r *refTree) values(prefix string) map[string]cty.Value {
	out := map[string]cty.Value{}
	for k, c := range r.attrs {
		out[k] = c.value(prefix)
	}
	return out
}

var functions = map[string]function.Function{
	"jsonencode": stdlib.JSONEncodeFunc,
	"merge":      stdlib.MergeFunc,
	"keys":       stdlib.KeysFunc,
	"concat":     stdlib.ConcatFunc,
	"compact":    stdlib.CompactFunc,
	"join":       stdlib.JoinFunc,
	"floor":      stdlib.FloorFunc,
	"contains":   stdlib.ContainsFunc,
	"length":     lengthFunc,
	"regex":      stdlib.RegexFunc,
	"can":        tryfunc.CanFunc,
	"try":        tryfunc.TryFunc,
	"tonumber": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], cty.Number)
		},
	}),
	"coalesce":        stdlib.CoalesceFunc,
	"distinct":        stdlib.DistinctFunc,
	"setintersection": stdlib.SetIntersectionFunc,
	"values":          stdlib.ValuesFunc,
	"alltrue": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for _, v := range args[0].AsValueSlice() {
				if v.False() {
					return cty.False, nil
				}
			}
			return cty.True, nil
		},
	}),
	"tostring": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], cty.String)
		},
	}),
	"filebase64sha256": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal("sha256(" + args[0].AsString() + ")"), nil
		},
	}),
}

// statement is an IAM policy statement as the modules write it.
type statement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource []string
}

const vpcActions = "ec2:AssignPrivateIpAddresses,ec2:CreateNetworkInterface,ec2:DeleteNetworkInterface,ec2:DescribeNetworkInterfaces,ec2:DescribeSubnets,ec2:UnassignPrivateIpAddresses"

func policyStatements(t *testing.T, m *module, addr string) map[string]statement {
	t.Helper()
	var doc struct {
		Statement []statement
	}
	m.jsonDoc(addr, "policy", &doc)
	out := map[string]statement{}
	for _, s := range doc.Statement {
		require.NotContains(t, out, s.Sid, "duplicate Sid in %s", addr)
		sort.Strings(s.Action)
		out[s.Sid] = s
		for _, r := range s.Resource {
			// X-Ray's write actions have no resource-level permissions:
			// "*" is the only resource AWS accepts for them.
			if s.Sid == "XRay" && strings.Join(s.Action, ",") == "xray:PutTelemetryRecords,xray:PutTraceSegments" {
				continue
			}
			// Lambda manages a VPC function's network interfaces with its
			// role; the Describe actions have no resource-level permissions,
			// and AWSLambdaVPCAccessExecutionRole grants the others on "*" too.
			if s.Sid == "VPCNetworkInterfaces" && strings.Join(s.Action, ",") == vpcActions {
				continue
			}
			require.NotEqual(t, "*", r, "%s grants %v on every resource", addr, s.Action)
		}
		for _, a := range s.Action {
			require.NotContains(t, a, "*", "%s grants a wildcard action", addr)
		}
	}
	return out
}

func ref(s string) string { return "${" + s + "}" }

func mustJSON(t *testing.T, v cty.Value) string {
	t.Helper()
	b, err := ctyjson.Marshal(v, v.Type())
	require.NoError(t, err)
	return string(b)
}

// lengthFunc is Terraform's length: of a collection, or of a string in
// characters (cty's LengthFunc takes collections only).
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})
