//go:build e2e

package upgrade_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// previousLayout is the last commit before the functions' own resources moved
// into terraform/modules/_lambda: what an existing deployment was applied with.
const previousLayout = "8beef49"

// upgradeCase is one root module applied with the previous layout and then
// planned with this one.
type upgradeCase struct {
	name string
	// dir is the root module, relative to the repository.
	dir  string
	vars map[string]any
	// newVars replace vars of the same name in this layout, whose variable
	// changed type.
	newVars map[string]any
	// moves maps each address of the previous layout's state to its address
	// in this layout: exactly these must be moved, nothing else.
	moves map[string]string
	// changes are the plan's other changes, "<actions> <address>": what this
	// version adds beside the moves (never a delete or a replace, but for
	// deletes).
	changes []string
	// optional are changes the plan may or may not make: LocalStack keeps a
	// deleted log group's tags and gives them to a group created again under
	// the same name, so on a LocalStack that ran the end-to-end tests
	// before, the bridge's tag is already on the groups and is no change.
	optional []string
	// deletes are the deletes among changes: what this version no longer
	// needs and that holds nothing (an IAM policy), never a topic, queue,
	// bucket or secret.
	deletes []string
	// kept are resources the plan must name as no-ops, so that a failure
	// says so: the topics, queues, bucket and secret a deployment routes
	// through or keeps data in.
	kept []string
}

// TestUpgradeFromThePreviousLayoutMovesOnly: an existing deployment upgrades
// in place. The moved blocks carry every resource of the bridge's four
// functions (the callback included, instance [0] of its count), of a
// zeebe-lambda function (created, and attached to an existing one) and of
// long-work-finish to its new address; the plan destroys and replaces
// nothing, creates and updates only what this version adds (listed), and
// applying it leaves each resource at its new address.
func TestUpgradeFromThePreviousLayoutMovesOnly(t *testing.T) {
	previous := previousTree(t)
	dist, err := filepath.Abs(filepath.Join("..", "..", "dist"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dist, "long-work-finish.zip"))
	require.NoError(t, err, "the Lambda zips are missing: run `make build` (make test does)")
	arch := []string{tfstack.Architecture()}

	existing := fmt.Sprintf("upgrade-existing-%d", time.Now().UnixNano())
	cases := []upgradeCase{
		{
			name: "local root: bridge with callback, long-work, long-work-finish",
			dir:  filepath.Join("localstack", "terraform"),
			vars: map[string]any{
				"localstack_endpoint": tfstack.Endpoint(),
				"dist":                dist,
				"architectures":       arch,
				// long-work brings long-work-finish; one function covers
				// modules/zeebe-lambda.
				"functions": map[string]int{"long-work": 10},
				// Nothing here needs the engine, and a poller run the
				// schedule starts must not take jobs of tests running beside.
				"zeebe_address": "127.0.0.1:1",
			},
			// The functions variable took runtime and handler (issue 19).
			newVars: map[string]any{"functions": map[string]any{"long-work": map[string]any{"timeout": 10}}},
			moves:   localRootMoves(),
			// Added since the layout of previousLayout: the business events'
			// topic of the local root; the poller is not retried by Lambda;
			// the layer for other runtimes; the callback reads the keyring
			// to check tokens; the returner deletes the payloads it served;
			// the activation guard (ACTIVATION_BUCKET, grants on
			// activations/ and claims/, which expire) for the poller, the
			// fulfiller and the returner.
			// Issue 21: the resource policies on the topics, the keyring and
			// the bucket; the bridge's tag on every role (and so on the
			// function and log group _lambda tags alike) and its name in
			// every function's environment; the returner reads every DLQ
			// through its own policy, so the function's grant to it goes.
			// Issue 23: the local root's functions are created from their
			// zips in a bucket (code_s3_bucket), so each function's code
			// source changes and its zip is a new object.
			changes: []string{
				"create aws_s3_bucket.code",
				"create aws_sns_topic.business_events",
				"create module.bridge.aws_lambda_function_event_invoke_config.poller",
				"create module.bridge.aws_lambda_layer_version.runtime_proxy[0]",
				"create module.bridge.aws_s3_bucket_policy.payloads",
				"create module.bridge.aws_secretsmanager_secret_policy.job_token",
				"create module.bridge.aws_sns_topic_policy.jobs",
				"create module.bridge.aws_sns_topic_policy.outcomes",
				"create module.bridge.module.callback[0].aws_s3_object.code[0]",
				"create module.bridge.module.fulfiller.aws_s3_object.code[0]",
				"create module.bridge.module.poller.aws_s3_object.code[0]",
				"create module.bridge.module.returner.aws_s3_object.code[0]",
				`create module.functions["long-work"].module.lambda.aws_s3_object.code[0]`,
				"create module.long_work_finish[0].aws_s3_object.code[0]",
				`delete module.functions["long-work"].aws_iam_role_policy.returner[0]`,
				"update module.bridge.aws_s3_bucket_lifecycle_configuration.payloads",
				"update module.bridge.module.callback[0].aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.callback[0].aws_iam_role.this[0]",
				"update module.bridge.module.callback[0].aws_iam_role_policy.this",
				"update module.bridge.module.callback[0].aws_lambda_function.this[0]",
				"update module.bridge.module.fulfiller.aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.fulfiller.aws_iam_role.this[0]",
				"update module.bridge.module.fulfiller.aws_iam_role_policy.this",
				"update module.bridge.module.fulfiller.aws_lambda_function.this[0]",
				"update module.bridge.module.poller.aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.poller.aws_iam_role.this[0]",
				"update module.bridge.module.poller.aws_iam_role_policy.this",
				"update module.bridge.module.poller.aws_lambda_function.this[0]",
				"update module.bridge.module.returner.aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.returner.aws_iam_role.this[0]",
				"update module.bridge.module.returner.aws_iam_role_policy.this",
				"update module.bridge.module.returner.aws_lambda_function.this[0]",
				`update module.functions["long-work"].module.lambda.aws_cloudwatch_log_group.this[0]`,
				`update module.functions["long-work"].module.lambda.aws_iam_role.this[0]`,
				`update module.functions["long-work"].module.lambda.aws_lambda_function.this[0]`,
				"update module.long_work_finish[0].aws_lambda_function.this[0]",
			},
			deletes: []string{`delete module.functions["long-work"].aws_iam_role_policy.returner[0]`},
			optional: []string{
				"update module.bridge.module.callback[0].aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.fulfiller.aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.poller.aws_cloudwatch_log_group.this[0]",
				"update module.bridge.module.returner.aws_cloudwatch_log_group.this[0]",
				`update module.functions["long-work"].module.lambda.aws_cloudwatch_log_group.this[0]`,
			},
			kept: []string{
				"module.bridge.aws_sns_topic.jobs",
				"module.bridge.aws_sns_topic.outcomes",
				"module.bridge.aws_sqs_queue.outcomes",
				"module.bridge.aws_sqs_queue.outcomes_dlq",
				"module.bridge.aws_s3_bucket.payloads",
				"module.bridge.aws_secretsmanager_secret.job_token",
				"module.bridge.aws_secretsmanager_secret_version.job_token",
				`module.functions["long-work"].aws_sqs_queue.this`,
				`module.functions["long-work"].aws_sqs_queue.dlq`,
				"aws_sqs_queue.long_work[0]",
			},
		},
		{
			name: "zeebe-lambda attached to an existing function",
			dir:  filepath.Join("localstack", "terraform", "existing-function"),
			vars: map[string]any{
				"localstack_endpoint": tfstack.Endpoint(),
				"function_name":       existing,
				"filename":            filepath.Join(dist, "noop.zip"),
				"architectures":       arch,
			},
			moves: map[string]string{
				"module.zeebe_ready.aws_iam_role_policy.this": "module.zeebe_ready.module.lambda.aws_iam_role_policy.this",
			},
			kept: []string{"module.zeebe_ready.aws_sqs_queue.this", "module.zeebe_ready.aws_sqs_queue.dlq", "aws_lambda_function.existing"},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			upgrade(t, previous, fmt.Sprintf("upgrade-%d", i), tc)
		})
	}
}

func upgrade(t *testing.T, previous, name string, tc upgradeCase) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	log := &testWriter{t: t}
	old := tfstack.Root{Dir: tc.dir, Name: name, Vars: tc.vars, Log: log, Tree: previous}
	cur := old
	cur.Tree = ""
	cur.Vars = maps.Clone(tc.vars)
	maps.Copy(cur.Vars, tc.newVars)

	// A run that died before its destroy left its resources and state: this
	// layout's moved blocks read either layout's state.
	if _, err := os.Stat(cur.StatePath()); err == nil {
		require.NoError(t, cur.Destroy(ctx), "destroy what an earlier run left")
	}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		assert.NoError(t, cur.Destroy(dctx), "terraform destroy")
	})

	began := time.Now()
	_, err := old.Apply(ctx)
	require.NoError(t, err, "terraform apply of the layout of %s", previousLayout)
	t.Logf("the layout of %s applied in %s", previousLayout, time.Since(began).Round(time.Second))

	began = time.Now()
	plan, err := cur.Plan(ctx)
	require.NoError(t, err, "terraform plan of this layout over that state")
	t.Logf("this layout planned in %s", time.Since(began).Round(time.Second))
	moved, changed := summarize(plan)
	for _, c := range changed {
		if !slices.Contains(tc.deletes, c) {
			assert.NotContains(t, c, "delete", "the upgrade destroys and replaces nothing")
		}
	}
	want := slices.DeleteFunc(slices.Clone(tc.changes), func(c string) bool {
		return slices.Contains(tc.optional, c) && !slices.Contains(changed, c)
	})
	assert.Equal(t, want, changed, "beside the moves, the upgrade changes exactly what this version adds")
	assert.Equal(t, tc.moves, moved, "exactly these addresses move")
	noop := map[string]bool{}
	for _, rc := range plan.ResourceChanges {
		noop[rc.Address] = rc.Change.Actions.NoOp()
	}
	for _, a := range tc.kept {
		assert.True(t, noop[a], "%s is kept as it is", a)
	}

	// The plan just checked, nothing else: it writes the moves to the state.
	began = time.Now()
	require.NoError(t, cur.ApplyPlan(ctx), "terraform apply of that plan")
	st, err := cur.State(ctx)
	require.NoError(t, err)
	t.Logf("the plan applied in %s", time.Since(began).Round(time.Second))
	addrs := map[string]bool{}
	addresses(st.Values.RootModule, addrs)
	for from, to := range tc.moves {
		assert.False(t, addrs[from], "%s is gone from the state", from)
		assert.True(t, addrs[to], "%s is in the state", to)
	}
}

// addresses collects the addresses of a state module's resources and its
// child modules'.
func addresses(m *tfjson.StateModule, into map[string]bool) {
	if m == nil {
		return
	}
	for _, r := range m.Resources {
		into[r.Address] = true
	}
	for _, c := range m.ChildModules {
		addresses(c, into)
	}
}

// summarize splits a plan's managed resource changes into the moves
// (previous address to address) and every change that is not a no-op,
// written "<actions> <address>".
func summarize(plan *tfjson.Plan) (moved map[string]string, changed []string) {
	moved = map[string]string{}
	for _, rc := range plan.ResourceChanges {
		if rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		if rc.PreviousAddress != "" && rc.PreviousAddress != rc.Address {
			moved[rc.PreviousAddress] = rc.Address
		}
		if !rc.Change.Actions.NoOp() {
			var acts []string
			for _, a := range rc.Change.Actions {
				acts = append(acts, string(a))
			}
			changed = append(changed, strings.Join(acts, ",")+" "+rc.Address)
		}
	}
	sort.Strings(changed)
	return moved, changed
}

// localRootMoves: the bridge's poller, fulfiller and returner (no count), its
// callback (count: instance [0] of the module), the long-work function of
// zeebe-lambda (the whole resource moves: instance [0] of create_function's
// count) and long-work-finish (count: instance [0] of the module). Inside
// modules/_lambda the function, role and log group are counted and the policy
// is not.
func localRootMoves() map[string]string {
	moves := map[string]string{}
	lambda := []struct{ typ, index string }{
		{"aws_cloudwatch_log_group", "[0]"}, {"aws_iam_role", "[0]"}, {"aws_iam_role_policy", ""}, {"aws_lambda_function", "[0]"},
	}
	for _, fn := range []struct{ from, resource, to string }{
		{"module.bridge.", "poller", "module.bridge.module.poller."},
		{"module.bridge.", "fulfiller", "module.bridge.module.fulfiller."},
		{"module.bridge.", "returner", "module.bridge.module.returner."},
		{"module.bridge.", "callback[0]", "module.bridge.module.callback[0]."},
		{"", "long_work_finish[0]", "module.long_work_finish[0]."},
	} {
		for _, r := range lambda {
			moves[fn.from+r.typ+"."+fn.resource] = fn.to + r.typ + ".this" + r.index
		}
	}
	lw := `module.functions["long-work"].`
	for _, r := range lambda {
		moves[lw+r.typ+".this"+r.index] = lw + "module.lambda." + r.typ + ".this" + r.index
	}
	return moves
}

// previousTree extracts terraform/ and localstack/terraform/ of
// previousLayout from git into a temporary directory.
func previousTree(t *testing.T) string {
	t.Helper()
	repo, err := tfstack.RepoDir()
	require.NoError(t, err)
	_, err = exec.LookPath("git")
	require.NoError(t, err, "the upgrade test takes the previous layout (commit %s) from git: install git", previousLayout)
	var stderr bytes.Buffer
	cmd := exec.Command("git", "-C", repo, "archive", "--format=tar", previousLayout, "terraform", "localstack/terraform")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "git archive %s: the upgrade test needs commit %s, the layout before terraform/modules/_lambda, in the history of %s (a shallow clone lacks it: git fetch --unshallow); git said: %s",
		previousLayout, previousLayout, repo, strings.TrimSpace(stderr.String()))

	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "read git archive's tar")
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}
	}
	_, err = os.Stat(filepath.Join(dir, "terraform", "modules", "bridge", "main.tf"))
	require.NoError(t, err, "git archive %s holds terraform/modules/bridge", previousLayout)
	return dir
}

// testWriter passes Terraform's output to the test log under -v.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
