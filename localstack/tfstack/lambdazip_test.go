package tfstack_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// TestLambdaZipsAreReproducible: two builds of the same function give the
// same bytes, so a second `make demo` or `make test` changes no function
// (Terraform compares the zips' hashes). The entry is the executable
// bootstrap, with a fixed time.
func TestLambdaZipsAreReproducible(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	var zips [][]byte
	for i := range 2 {
		out := filepath.Join(dir, "noop-"+string(rune('a'+i))+".zip")
		cmd := exec.Command(filepath.Join(root, "localstack", "lambdazip"), "./functions/noop", out)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
		z, err := os.ReadFile(out)
		require.NoError(t, err)
		zips = append(zips, z)
	}
	assert.True(t, bytes.Equal(zips[0], zips[1]), "two builds of the same source differ")

	r, err := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
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
