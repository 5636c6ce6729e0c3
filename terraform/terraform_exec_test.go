//go:build terraform

package terraform_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebetest"
)

// defaultMirror is where machines of this workplace keep the AWS provider;
// TF_PLUGIN_MIRROR points elsewhere, and without a mirror Terraform asks the
// public registry.
const defaultMirror = "/opt/tf-plugins"

// TestTerraformExample applies terraform/examples/trip-booking to LocalStack,
// books a trip through what it deployed, and destroys it again
// (`make test-terraform`).
func TestTerraformExample(t *testing.T) {
	bin := os.Getenv("TF_BINARY")
	require.NotEmpty(t, bin, "TF_BINARY is not set: run `make test-terraform`, which builds Terraform and sets it")
	dist, err := filepath.Abs(os.Getenv("DIST"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dist, "zeebe-poller.zip"))
	require.NoError(t, err, "no Lambda zips in %s: run `make build`", dist)

	// Work on a copy, so .terraform and the state stay out of the repository.
	work := t.TempDir()
	require.NoError(t, os.CopyFS(work, os.DirFS("."+string(filepath.Separator))))
	dir := filepath.Join(work, "examples", "trip-booking")
	tf, err := tfexec.NewTerraform(dir, bin)
	require.NoError(t, err)
	env := map[string]string{}
	mirror := os.Getenv("TF_PLUGIN_MIRROR")
	if mirror == "" {
		if _, err := os.Stat(filepath.Join(defaultMirror, "registry.terraform.io", "hashicorp", "aws")); err == nil {
			mirror = defaultMirror
		}
	}
	if mirror != "" {
		rc := filepath.Join(work, "terraformrc")
		require.NoError(t, os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }\n}\n", mirror)), 0o644))
		env["TF_CLI_CONFIG_FILE"] = rc
	}
	require.NoError(t, tf.SetEnv(env))

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var initErr strings.Builder
	tf.SetStderr(&initErr)
	err = tf.Init(ctx)
	tf.SetStderr(io.Discard)
	if err != nil {
		from := "registry.terraform.io (not reachable from machines without internet access)"
		if mirror != "" {
			from = "the mirror " + mirror
		}
		t.Fatalf("terraform init could not install the AWS provider from %s: set TF_PLUGIN_MIRROR to a directory made with `terraform providers mirror`; terraform said: %s", from, firstLine(initErr.String()+"\n"+err.Error()))
	}

	vars := []string{
		"target=localstack", "dist=" + dist, `architectures=["x86_64"]`, "zeebe_address=" + zeebetest.Address(),
		"zeebe_insecure_connection=true", "poller_schedule=rate(1 minute)", "poller_timeout=60",
		"poller_safety_margin=10s", "retry_backoff=1s",
	}
	var applyOpts []tfexec.ApplyOption
	var destroyOpts []tfexec.DestroyOption
	for _, v := range vars {
		applyOpts = append(applyOpts, tfexec.Var(v))
		destroyOpts = append(destroyOpts, tfexec.Var(v))
	}
	t.Cleanup(func() {
		assert.NoError(t, tf.Destroy(context.Background(), destroyOpts...), "terraform destroy")
	})
	require.NoError(t, tf.Apply(ctx, applyOpts...), "terraform apply")

	out, err := tf.Output(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(out["jobs_topic_arn"].Value), "zeebe_jobs")

	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	zeebetest.DeployFile(t, zb.Zeebe(), filepath.Join("..", "bpmn", "trip-booking.bpmn"))
	pik := zeebetest.Start(t, zb.Zeebe(), "trip-booking", map[string]any{"tripId": "tf-" + time.Now().Format("150405"), "failFlight": false})
	wctx, wcancel := context.WithTimeout(ctx, 4*time.Minute)
	defer wcancel()
	end, err := records.WaitEnd(wctx, pik)
	require.NoError(t, err, "the trip booked through the Terraform deployment did not end")
	recs, _ := records.Instance(pik)
	var timeline strings.Builder
	recordlog.Render(&timeline, fmt.Sprintf("instance %d", pik), recs, end)
	t.Log(timeline.String())
	require.Nil(t, end.Incident)
	assert.True(t, end.Completed)
	assert.Equal(t, "EndEvent_TripBooked", end.EndEventID)
}

// firstLine picks terraform's "Error: ..." line out of its boxed output.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(strings.TrimLeft(l, "│╷╵ ")); strings.HasPrefix(l, "Error:") {
			return l
		}
	}
	return s
}
