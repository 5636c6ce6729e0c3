//go:build integration

package tfstack_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// TestApplySkipsWhatDidNotChange: with SkipUnchanged (the demo's), a second
// apply of the same root, variables and zips to the same LocalStack reads
// the outputs without running terraform apply; a changed zip, a changed
// variable, or an apply without SkipUnchanged in between (the tests' own,
// which may change anything) makes the next one apply.
func TestApplySkipsWhatDidNotChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	zips := t.TempDir()
	zip := filepath.Join(zips, "fn.zip")
	require.NoError(t, os.WriteFile(zip, []byte("one"), 0o600))
	topic := fmt.Sprintf("skip-%d", time.Now().UnixNano())
	root := tfstack.Root{Dir: filepath.Join("localstack", "tfstack", "testdata", "skip"), Name: "skip-test",
		Vars:          map[string]any{"localstack_endpoint": tfstack.Endpoint(), "topic": topic},
		SkipUnchanged: true, Zips: zips}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		assert.NoError(t, root.Destroy(dctx))
	})
	apply := func(r tfstack.Root) (string, bool) {
		t.Helper()
		out, applied, err := r.ApplyIfChanged(ctx)
		require.NoError(t, err)
		return string(out["topic_arn"]), applied
	}

	arn, applied := apply(root)
	assert.True(t, applied, "the first apply")
	assert.Contains(t, arn, topic)
	again, applied := apply(root)
	assert.False(t, applied, "nothing changed")
	assert.Equal(t, arn, again, "the outputs are read all the same")

	require.NoError(t, os.WriteFile(zip, []byte("two"), 0o600))
	_, applied = apply(root)
	assert.True(t, applied, "a zip changed")
	_, applied = apply(root)
	assert.False(t, applied, "nothing changed since")

	root.Vars["topic"] = topic + "-b"
	_, applied = apply(root)
	assert.True(t, applied, "a variable changed")

	plain := root
	plain.SkipUnchanged = false
	_, applied = apply(plain)
	assert.True(t, applied, "without SkipUnchanged")
	_, applied = apply(root)
	assert.True(t, applied, "an apply without SkipUnchanged came in between")
	_, applied = apply(root)
	assert.False(t, applied)
}
