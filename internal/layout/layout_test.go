// Package layout_test keeps the repository's layout what docs say it is: what
// a user meets at the top, everything else under internal/, every main in
// one of its two homes, and a package document on each package.
package layout_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/zeebe-lambda-bridge/zeebe-lambda-bridge"

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
}

// packages lists the module's packages, with the build tags of every test.
func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-tags", "integration e2e conformance", "-json", module+"/...").Output()
	require.NoError(t, err, "go list")
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		p.ImportPath = strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

// public is what may live outside internal/: the public API, the named
// parts, the test harnesses and the local engine. Mains are checked apart.
var public = map[string]bool{
	"lambdakit": true, "completion": true, "jobmsg": true,
	"poller": true, "fulfiller": true, "returner": true,
	"terraform": true, "localstack/bench": true, "localstack/e2e": true, "localstack/tfstack": true, "localstack/upgrade": true,
}

func TestOnlyThePublicAPIIsOutsideInternal(t *testing.T) {
	for _, p := range packages(t) {
		top := strings.SplitN(p.ImportPath, "/", 2)[0]
		switch {
		case top == "internal":
		case p.Name == "main":
			// One home per kind of main, named for what it builds.
			dir := path.Dir(p.ImportPath)
			assert.Contains(t, []string{"cmd", "functions"}, dir, "main package %s: mains live in cmd/<name> or functions/<name>", p.ImportPath)
		case top == "localzeebe":
		default:
			assert.True(t, public[p.ImportPath], "%s is outside internal/ but not part of the public API, a named part or a harness: move it under internal/", p.ImportPath)
		}
	}
}

func TestEveryPackageSaysWhatItIsFor(t *testing.T) {
	for _, p := range packages(t) {
		if strings.HasPrefix(p.ImportPath, "internal/layout") {
			continue // this test's own package has no non-test file
		}
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command " + path.Base(p.ImportPath) + " "
		}
		assert.True(t, strings.HasPrefix(p.Doc, want), "%s: its package document should start %q, not %q", p.ImportPath, want, p.Doc)
	}
}
