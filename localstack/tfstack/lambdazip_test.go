package tfstack_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// linkCommand is the linker's command line in the go command's -x output.
var linkCommand = regexp.MustCompile(`(?m)/link -o `)

// TestLambdaZipsAreReproducible: builds of the same function give the same
// bytes, so a second `make demo` or `make test` changes no function
// (Terraform compares the zips' hashes): without a cache, into a cold cache
// (LAMBDAZIP_CACHE, as make build passes it) and from the warm one, which
// neither relinks the binary nor compresses it again. The entry is the
// executable bootstrap, with a fixed time.
func TestLambdaZipsAreReproducible(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	// GOFLAGS=-x: the go command prints the commands it runs, the linker's among them.
	build := func(name, cache string) (zip []byte, linked bool) {
		t.Helper()
		out := filepath.Join(dir, name+".zip")
		cmd := exec.Command(filepath.Join(root, "localstack", "lambdazip"), "./functions/noop", out)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "LAMBDAZIP_CACHE="+cache, "GOFLAGS=-x")
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
		z, err := os.ReadFile(out)
		require.NoError(t, err)
		return z, linkCommand.Match(b)
	}
	uncached, _ := build("uncached", "")
	cold, linked := build("cold", cache)
	require.True(t, linked, "the cold build did not link (or GOFLAGS=-x printed no link command)")
	// The cached zip, as the cold build left it; the warm build must leave it
	// as it is (the go command touches an up-to-date binary, so its time says
	// nothing).
	cached := map[string]time.Time{}
	for _, f := range []string{"noop.zip", "noop.zip.stamp"} {
		st, err := os.Stat(filepath.Join(cache, "bin", f))
		require.NoError(t, err, "the cold build kept no %s", f)
		cached[f] = st.ModTime()
	}
	warm, linked := build("warm", cache)
	assert.False(t, linked, "the warm build linked the binary again")
	assert.True(t, bytes.Equal(uncached, cold), "a build into a cache differs from one without")
	assert.True(t, bytes.Equal(cold, warm), "a build from the warm cache differs from the cold one")
	for f, mod := range cached {
		st, err := os.Stat(filepath.Join(cache, "bin", f))
		require.NoError(t, err)
		assert.Equal(t, mod, st.ModTime(), "the warm build wrote %s again", f)
	}

	r, err := zip.NewReader(bytes.NewReader(uncached), int64(len(uncached)))
	require.NoError(t, err)
	require.Len(t, r.File, 1)
	f := r.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm(), "executable")
	assert.True(t, f.Mode().IsRegular())
	assert.Equal(t, time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), f.Modified.UTC().Truncate(time.Second))
}

// TestEndpointFollowsThePortOffset: a run beside another stack reaches its
// own LocalStack, never the default one by mistake.
func TestEndpointFollowsThePortOffset(t *testing.T) {
	for _, tt := range []struct{ url, offset, want string }{
		{"", "", "http://127.0.0.1:4566"},
		{"", "200", "http://127.0.0.1:4766"},
		{"http://localhost:4999", "200", "http://localhost:4999"},
		{"", "x", "http://127.0.0.1:4566"},
	} {
		t.Setenv("AWS_ENDPOINT_URL", tt.url)
		t.Setenv("STACK_PORT_OFFSET", tt.offset)
		assert.Equal(t, tt.want, tfstack.Endpoint(), "AWS_ENDPOINT_URL=%q STACK_PORT_OFFSET=%q", tt.url, tt.offset)
	}
}
