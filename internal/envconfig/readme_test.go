package envconfig_test

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

const module = "github.com/zeebe-lambda-bridge/zeebe-lambda-bridge"

// binaries are what README.md's Configuration section configures: the
// bridge's Lambdas, its layer, the long-lived poller and the operator's
// tool, and the two libraries a function or its caller builds with.
var binaries = []string{
	"./cmd/zeebe-poller", "./cmd/zeebe-poller-daemon", "./cmd/zeebe-fulfiller", "./cmd/zeebe-returner",
	"./cmd/zeebe-callback", "./cmd/zeebe-runtime-proxy", "./cmd/zeebe-bridge", "./lambdakit", "./completion",
}

// variablesRead finds, in this module's packages the binaries are built
// from, every call that reads an environment variable: os.Getenv,
// os.LookupEnv, a call of an envconfig.Getenv or of one of its methods. It
// returns the names (the arguments' constant values, as the type checker
// folds them, so a name read through another package's constant is found)
// with where each is read, and the places whose name is not a constant.
func variablesRead(t *testing.T) (names map[string][]string, dynamic []string) {
	t.Helper()
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedDeps | packages.NeedImports, Dir: "../.."}
	roots, err := packages.Load(cfg, binaries...)
	require.NoError(t, err)
	var ours []string
	packages.Visit(roots, nil, func(p *packages.Package) {
		if p.PkgPath == module || strings.HasPrefix(p.PkgPath, module+"/") {
			ours = append(ours, p.PkgPath)
		}
	})
	cfg.Mode = packages.NeedName | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedSyntax | packages.NeedFiles
	pkgs, err := packages.Load(cfg, ours...)
	require.NoError(t, err)
	require.Zero(t, packages.PrintErrors(pkgs), "the binaries' packages type-check")

	isGetenv := func(ty types.Type) bool {
		n, ok := ty.(*types.Named)
		return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == module+"/internal/envconfig" && n.Obj().Name() == "Getenv"
	}
	names = map[string][]string{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 || p.TypesInfo.Types[call.Fun].IsType() {
					return true // not a call, or a conversion: envconfig.Getenv(os.Getenv)
				}
				var reads bool
				switch fn := ast.Unparen(call.Fun).(type) {
				case *ast.SelectorExpr:
					if sel, ok := p.TypesInfo.Selections[fn]; ok && sel.Kind() == types.MethodVal {
						reads = isGetenv(sel.Recv()) // getenv.String(name, def)
					} else if obj, ok := p.TypesInfo.Uses[fn.Sel].(*types.Func); ok && obj.Pkg() != nil && obj.Pkg().Path() == "os" {
						reads = obj.Name() == "Getenv" || obj.Name() == "LookupEnv"
					} else {
						reads = isGetenv(p.TypesInfo.TypeOf(fn)) // cfg.getenv(name)
					}
				case *ast.Ident:
					reads = isGetenv(p.TypesInfo.TypeOf(fn)) // getenv(name)
				}
				if !reads {
					return true
				}
				pos := p.Fset.Position(call.Pos())
				at := fmt.Sprintf("%s/%s:%d", strings.TrimPrefix(p.PkgPath, module+"/"), filepath.Base(pos.Filename), pos.Line)
				if tv := p.TypesInfo.Types[call.Args[0]]; tv.Value != nil && tv.Value.Kind() == constant.String {
					name := constant.StringVal(tv.Value)
					names[name] = append(names[name], at)
				} else {
					dynamic = append(dynamic, at)
				}
				return true
			})
		}
	}
	sort.Strings(dynamic)
	return names, dynamic
}

// configurationSection is README.md's "## Configuration", up to the next
// second-level heading.
func configurationSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "\n## Configuration\n")
	require.True(t, ok, "README.md has a Configuration section")
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// TestReadmeListsEveryVariable: every environment variable the binaries
// read is in README.md's Configuration section (written `NAME` there), so
// the section stays the complete list. The calls whose name is not a
// constant forward one: each is listed here with the reason.
func TestReadmeListsEveryVariable(t *testing.T) {
	names, dynamic := variablesRead(t)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(configurationSection(t), -1) {
		documented[m[1]] = true
	}
	var missing []string
	for name, at := range names {
		if !documented[name] {
			missing = append(missing, fmt.Sprintf("%s (read at %s)", name, strings.Join(at, ", ")))
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "variables the code reads that README.md's Configuration section does not list")

	// Where a name is passed on rather than read: envconfig's own methods
	// (their callers' names are found above) and the operator's tool handing
	// its environment to terraform.
	forwarding := regexp.MustCompile(`^(internal/envconfig/envconfig\.go|internal/operator/operator\.go):\d+$`)
	for _, at := range dynamic {
		assert.Regexp(t, forwarding, at, "a variable read with a name that is not a constant: make it one, so this test sees it")
	}
}

// TestReadmeModuleVariablesExist: each module variable README.md's
// Configuration section names, in the SaaS table (modules/bridge) and in
// the module column (b: modules/bridge, z: modules/zeebe-lambda), is a
// variable of that module, and each SaaS value's environment variable is
// one the code reads.
func TestReadmeModuleVariablesExist(t *testing.T) {
	variables := func(module string) map[string]bool {
		b, err := os.ReadFile("../../terraform/modules/" + module + "/variables.tf")
		require.NoError(t, err)
		out := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^variable "([a-z0-9_]+)"`).FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
		return out
	}
	modules := map[string]map[string]bool{"b": variables("bridge"), "z": variables("zeebe-lambda")}
	section := configurationSection(t)
	names, _ := variablesRead(t)

	_, saas, ok := strings.Cut(section, "### Camunda 8 SaaS\n")
	require.True(t, ok, "a Camunda 8 SaaS subsection")
	saas, _, _ = strings.Cut(saas, "\n### ")
	row := regexp.MustCompile("(?m)^\\| [^|]+ \\| `([A-Z_]+)` \\| `([a-z_]+)` \\|")
	var envs []string
	for _, m := range row.FindAllStringSubmatch(saas, -1) {
		envs = append(envs, m[1])
		assert.Contains(t, names, m[1], "SaaS row %s: read by the code", m[1])
		assert.True(t, modules["b"][m[2]], "SaaS row %s: modules/bridge has variable %s", m[1], m[2])
	}
	assert.Equal(t, []string{"ZEEBE_ADDRESS", "ZEEBE_CLIENT_ID", "ZEEBE_CLIENT_SECRET_ARN", "ZEEBE_AUTHORIZATION_SERVER_URL", "ZEEBE_TOKEN_AUDIENCE", "ZEEBE_TOKEN_SCOPE"}, envs,
		"the six values of a SaaS API client, one row each")

	_, every, ok := strings.Cut(section, "### Every variable\n")
	require.True(t, ok, "an Every variable subsection")
	named := regexp.MustCompile("((?:[bz], )*[bz]) `([a-z_]+)`")
	lower := regexp.MustCompile("`[a-z_]+`")
	for _, line := range strings.Split(every, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 5 || strings.HasPrefix(line, "| variable ") {
			continue
		}
		module := cells[3]
		found := named.FindAllStringSubmatch(module, -1)
		assert.Len(t, found, len(lower.FindAllString(module, -1)), "%s: each variable in the module column is marked b or z", cells[0])
		for _, m := range found {
			for _, mod := range strings.Split(m[1], ", ") {
				assert.True(t, modules[mod][m[2]], "%s: module %s has variable %s", cells[0], mod, m[2])
			}
		}
	}
}
