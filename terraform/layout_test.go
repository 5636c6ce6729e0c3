package terraform_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// TestLambdaModuleIsTheOneShape: the trust policy and the X-Ray statement
// are written once, in modules/_lambda; no other module repeats them.
func TestLambdaModuleIsTheOneShape(t *testing.T) {
	for _, dir := range []string{"modules/bridge", "modules/zeebe-lambda", "../localstack/terraform"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
		require.NoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			// Quoted: as policy text, not as the variables' descriptions name them.
			for _, s := range []string{`"sts:AssumeRole"`, `"xray:PutTraceSegments"`, `resource "aws_lambda_function"`, `resource "aws_iam_role"`} {
				assert.False(t, strings.Contains(string(b), s), "%s has %s: the function's shape is modules/_lambda's", f, s)
			}
		}
	}
}

// localRoot is localstack/terraform, the root the demo and the end-to-end
// tests apply, with the given functions.
func localRoot(t *testing.T, functions ...string) *module {
	fns := map[string]cty.Value{}
	for _, f := range functions {
		fns[f] = cty.NumberIntVal(10)
	}
	return loadModule(t, "../localstack/terraform", map[string]cty.Value{"dist": cty.StringVal("/dist"), "functions": cty.MapVal(fns)})
}

// TestLongWorkFinish: the long-work example's finisher, with long-work only,
// may work its queue and publish outcomes, and nothing else.
func TestLongWorkFinish(t *testing.T) {
	const fn = "module.long_work_finish."
	for _, tc := range []struct {
		functions []string
		want      int64
	}{{[]string{"long-work", "echo"}, 1}, {[]string{"echo"}, 0}} {
		m := localRoot(t, tc.functions...)
		for _, r := range []string{fn + "aws_lambda_function.this", fn + "aws_iam_role.this", fn + "aws_iam_role_policy.this", fn + "aws_cloudwatch_log_group.this", "aws_lambda_event_source_mapping.long_work_finish"} {
			assert.Equal(t, tc.want, m.instances(r), "%s with %v", r, tc.functions)
		}
	}
	m := localRoot(t, "long-work")
	outcomes := ref("module.bridge.aws_sns_topic.outcomes.arn")
	assert.Equal(t, map[string]statement{
		"Logs": {Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{ref("module.long_work_finish[*].aws_cloudwatch_log_group.this[*].arn") + ":*"}},
		"WorkItems": {Sid: "WorkItems", Effect: "Allow",
			Action:   []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"},
			Resource: []string{ref("aws_sqs_queue.long_work[*].arn")}},
		"PublishOutcomes": {Sid: "PublishOutcomes", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{outcomes}},
	}, policyStatements(t, m, fn+"aws_iam_role_policy.this"))
	assert.Equal(t, "long-work-finish", m.str(fn+"aws_iam_role_policy.this", "name"))
	assert.Equal(t, "long-work-finish", m.str(fn+"aws_iam_role.this", "name"))
	assert.Equal(t, "long-work-finish", m.str(fn+"aws_lambda_function.this", "function_name"))
	assert.Equal(t, int64(10), m.num(fn+"aws_lambda_function.this", "timeout"))
	assert.Equal(t, int64(1), m.num(fn+"aws_cloudwatch_log_group.this", "retention_in_days"))
	env := m.attr(fn+"aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, map[string]string{"WORK_QUEUE_URL": ref("aws_sqs_queue.long_work[*].url"), "ZEEBE_FULFILLER_SNS_ARN": outcomes},
		map[string]string{"WORK_QUEUE_URL": env["WORK_QUEUE_URL"].AsString(), "ZEEBE_FULFILLER_SNS_ARN": env["ZEEBE_FULFILLER_SNS_ARN"].AsString()})
	assert.Len(t, env, 2)
	assert.Equal(t, ref("module.long_work_finish[*].aws_lambda_function.this[*].arn"), m.str("aws_lambda_event_source_mapping.long_work_finish", "function_name"))
}

// TestMovedBlocks: each module that gave its functions' resources to
// modules/_lambda moves every one of them (log group, role, policy,
// function), from an address it no longer declares to one that exists, with
// an instance key exactly where the module call or resource is counted. The
// upgrade test (localstack/upgrade) proves the same against a real state.
func TestMovedBlocks(t *testing.T) {
	tests := []struct {
		dir  string
		vars map[string]cty.Value
		from []string // the resource names that moved, with their instance keys
	}{
		{"modules/bridge", map[string]cty.Value{"poller_filename": cty.StringVal("p.zip"), "fulfiller_filename": cty.StringVal("f.zip"),
			"returner_filename": cty.StringVal("r.zip"), "callback_filename": cty.StringVal("c.zip"), "zeebe_address": cty.StringVal("zeebe:26500")},
			[]string{"poller", "fulfiller", "returner", "callback[0]"}},
		{"modules/zeebe-lambda", map[string]cty.Value{"function_name": cty.StringVal("f"), "filename": cty.StringVal("f.zip"),
			"jobs_topic_arn": cty.StringVal(jobsTopic), "outcomes_topic_arn": cty.StringVal(outcomesTopic)},
			[]string{"this"}},
		{"../localstack/terraform", map[string]cty.Value{"dist": cty.StringVal("/dist"), "functions": cty.MapVal(map[string]cty.Value{"long-work": cty.NumberIntVal(10)})},
			[]string{"long_work_finish[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			m := loadModule(t, tt.dir, tt.vars)
			var want []string
			for _, name := range tt.from {
				for _, typ := range []string{"aws_cloudwatch_log_group", "aws_iam_role", "aws_iam_role_policy", "aws_lambda_function"} {
					want = append(want, typ+"."+name)
				}
			}
			var froms []string
			tos := map[string]bool{}
			for _, mv := range movedBlocks(t, tt.dir) {
				from, to := address(mv.from), address(mv.to)
				froms = append(froms, from)
				assert.False(t, tos[to], "two moves to %s", to)
				tos[to] = true
				require.Len(t, mv.from, 2, "%s: a resource of this module", from)
				_, declared := m.resources[mv.from[0].name+"."+mv.from[1].name]
				assert.False(t, declared, "%s moved away, but %s still declares it", from, tt.dir)

				// Follow the module calls of the target, then its resource.
				owner, steps := m, mv.to
				for steps[0].name == "module" {
					call, ok := owner.calls[steps[1].name]
					require.True(t, ok, "%s: no module %s", to, steps[1].name)
					_, counted := call.Body.Attributes["count"]
					assert.Equal(t, counted, steps[1].indexed, "%s: module %s is counted exactly when the address has its instance key", to, steps[1].name)
					owner, steps = owner.child(steps[1].name), steps[2:]
				}
				require.Len(t, steps, 2, to)
				b, ok := owner.resources[steps[0].name+"."+steps[1].name]
				require.True(t, ok, "%s: no such resource in %s", to, owner.dir)
				// A whole resource moves with all its instances as they are;
				// an instance move keys the target exactly when it is counted.
				if _, counted := b.Body.Attributes["count"]; steps[1].indexed || mv.from[1].indexed {
					assert.Equal(t, counted, steps[1].indexed, "%s: the resource is counted exactly when the address has its instance key", to)
				}
				assert.Equal(t, steps[0].name, mv.from[0].name, "%s moves to a resource of its own type", from)
			}
			assert.ElementsMatch(t, want, froms)
		})
	}
}

// step is one name of an address, and whether an instance key follows it.
type step struct {
	name    string
	key     string
	indexed bool
}

type move struct{ from, to []step }

func movedBlocks(t *testing.T, dir string) []move {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	require.NoError(t, err)
	var out []move
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		require.False(t, diags.HasErrors(), diags.Error())
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "moved" {
				continue
			}
			out = append(out, move{from: steps(t, b.Body.Attributes["from"].Expr), to: steps(t, b.Body.Attributes["to"].Expr)})
		}
	}
	return out
}

func steps(t *testing.T, e hclsyntax.Expression) []step {
	t.Helper()
	tr, diags := hcl.AbsTraversalForExpr(e)
	require.False(t, diags.HasErrors(), diags.Error())
	var out []step
	for _, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			out = append(out, step{name: s.Name})
		case hcl.TraverseAttr:
			out = append(out, step{name: s.Name})
		case hcl.TraverseIndex:
			k, err := json.Marshal(mustJSONValue(t, s.Key))
			require.NoError(t, err)
			out[len(out)-1].indexed, out[len(out)-1].key = true, string(k)
		default:
			require.Failf(t, "unexpected step", "%T", s)
		}
	}
	return out
}

func mustJSONValue(t *testing.T, v cty.Value) any {
	t.Helper()
	var out any
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, v)), &out))
	return out
}

// address writes steps back as Terraform does: module.callback[0].aws_iam_role.this[0].
func address(ss []step) string {
	var parts []string
	for _, s := range ss {
		p := s.name
		if s.indexed {
			p += "[" + s.key + "]"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ".")
}
