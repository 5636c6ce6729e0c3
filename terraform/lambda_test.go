package terraform_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// lambdaStatement is a policy statement as modules/_lambda takes it.
func lambdaStatement(sid, effect string, actions, resources []string) cty.Value {
	list := func(ss []string) cty.Value {
		if len(ss) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		var vs []cty.Value
		for _, s := range ss {
			vs = append(vs, cty.StringVal(s))
		}
		return cty.ListVal(vs)
	}
	return cty.ObjectVal(map[string]cty.Value{"Sid": cty.StringVal(sid), "Effect": cty.StringVal(effect), "Action": list(actions), "Resource": list(resources)})
}

func lambdaModule(t *testing.T, extra map[string]cty.Value) *module {
	vars := map[string]cty.Value{
		"function_name": cty.StringVal("work"),
		"filename":      cty.StringVal("dist/work.zip"),
		"timeout":       cty.NumberIntVal(10),
		"policy_statements": cty.TupleVal([]cty.Value{
			lambdaStatement("WorkItems", "Allow", []string{"sqs:ReceiveMessage"}, []string{"arn:aws:sqs:eu-west-1:123456789012:work"}),
		}),
	}
	for k, v := range extra {
		vars[k] = v
	}
	return loadModule(t, "modules/_lambda", vars)
}

// sids lists a policy's statement ids in order.
func sids(t *testing.T, m *module, addr string) []string {
	t.Helper()
	var doc struct{ Statement []statement }
	m.jsonDoc(addr, "policy", &doc)
	var out []string
	for _, s := range doc.Statement {
		out = append(out, s.Sid)
	}
	return out
}

// TestLambdaModule: the one shape of every function the modules create: its
// role (only Lambda may assume it) and log group named after it, one inline
// policy of Logs, the caller's statements and XRay, in that order; for an
// existing function only the policy, without Logs, on its role.
func TestLambdaModule(t *testing.T) {
	tests := []struct {
		name      string
		extra     map[string]cty.Value
		created   int64
		policy    string
		role      string
		sids      []string
		tracing   bool
		retention int64
	}{
		{"creates the function", nil, 1, "zeebe-bridge-work", ref("aws_iam_role.this[*].name"), []string{"Logs", "WorkItems"}, false, 30},
		{"policy name and retention", map[string]cty.Value{"policy_name": cty.StringVal("work"), "log_retention_days": cty.NumberIntVal(1)},
			1, "work", ref("aws_iam_role.this[*].name"), []string{"Logs", "WorkItems"}, false, 1},
		{"x-ray", map[string]cty.Value{"xray_tracing": cty.True}, 1, "zeebe-bridge-work", ref("aws_iam_role.this[*].name"), []string{"Logs", "WorkItems", "XRay"}, true, 30},
		{"existing function", map[string]cty.Value{"create_function": cty.False, "existing_role_name": cty.StringVal("legacy-role"), "filename": cty.NullVal(cty.String)},
			0, "zeebe-bridge-work", "legacy-role", []string{"WorkItems"}, false, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := lambdaModule(t, tt.extra)
			for _, r := range []string{"aws_lambda_function.this", "aws_iam_role.this", "aws_cloudwatch_log_group.this"} {
				assert.Equal(t, tt.created, m.instances(r), r)
			}
			assert.Equal(t, tt.policy, m.str("aws_iam_role_policy.this", "name"))
			assert.Equal(t, tt.role, m.str("aws_iam_role_policy.this", "role"))
			assert.Equal(t, tt.sids, sids(t, m, "aws_iam_role_policy.this"))
			stmts := policyStatements(t, m, "aws_iam_role_policy.this")
			if tt.created == 1 {
				assert.Equal(t, statement{Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
					Resource: []string{ref("aws_cloudwatch_log_group.this[*].arn") + ":*"}}, stmts["Logs"], "its own log group only")
				assert.Equal(t, "work", m.str("aws_iam_role.this", "name"))
				assert.Equal(t, "/aws/lambda/work", m.str("aws_cloudwatch_log_group.this", "name"))
				assert.Equal(t, tt.retention, m.num("aws_cloudwatch_log_group.this", "retention_in_days"))
				assert.Equal(t, ref("aws_iam_role.this[*].arn"), m.str("aws_lambda_function.this", "role"))
				assert.Equal(t, "sha256(dist/work.zip)", m.str("aws_lambda_function.this", "source_code_hash"), "a new zip deploys")
			}
			if tt.tracing {
				assert.Equal(t, statement{Sid: "XRay", Effect: "Allow", Action: []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}, Resource: []string{"*"}}, stmts["XRay"])
			}

			var trust struct {
				Statement []struct {
					Effect    string
					Principal map[string]string
					Action    string
				}
			}
			m.jsonDoc("aws_iam_role.this", "assume_role_policy", &trust)
			require.Len(t, trust.Statement, 1)
			assert.Equal(t, map[string]string{"Service": "lambda.amazonaws.com"}, trust.Statement[0].Principal)
			assert.Equal(t, "sts:AssumeRole", trust.Statement[0].Action)
		})
	}
}

func TestLambdaModuleValidation(t *testing.T) {
	stmt := func(sid, effect string, actions, resources []string) cty.Value {
		return cty.TupleVal([]cty.Value{lambdaStatement(sid, effect, actions, resources)})
	}
	queue := []string{"arn:aws:sqs:eu-west-1:123456789012:work"}
	receive := []string{"sqs:ReceiveMessage"}
	tests := []struct {
		variable string
		value    cty.Value
		ok       bool
		says     string
	}{
		{"function_name", cty.StringVal("long-work-finish"), true, ""},
		{"function_name", cty.StringVal("long work"), false, "1-64 letters"},
		{"policy_name", cty.StringVal("long-work-finish"), true, ""},
		{"policy_name", cty.StringVal("no spaces"), false, "IAM policy name"},
		{"policy_statements", stmt("WorkItems", "Allow", receive, queue), true, ""},
		{"policy_statements", stmt("Logs", "Allow", receive, queue), false, "other than Logs and XRay"},
		{"policy_statements", stmt("XRay", "Allow", receive, queue), false, "other than Logs and XRay"},
		{"policy_statements", cty.TupleVal([]cty.Value{lambdaStatement("A", "Allow", receive, queue), lambdaStatement("A", "Allow", receive, queue)}), false, "distinct Sids"},
		{"policy_statements", stmt("Work-Items", "Allow", receive, queue), false, "alphanumeric Sid"},
		{"policy_statements", stmt("WorkItems", "Permit", receive, queue), false, "Effect Allow or Deny"},
		{"policy_statements", stmt("WorkItems", "Allow", nil, queue), false, "at least one Action"},
		{"policy_statements", stmt("WorkItems", "Allow", receive, nil), false, "one Resource"},
		{"timeout", cty.NumberIntVal(900), true, ""},
		{"timeout", cty.NumberIntVal(901), false, "900 seconds"},
		{"timeout", cty.NumberFloatVal(1.5), false, "whole number"},
		{"memory_size", cty.NumberIntVal(64), false, "128"},
		{"architectures", cty.ListVal([]cty.Value{cty.StringVal("arm64")}), true, ""},
		{"architectures", cty.ListVal([]cty.Value{cty.StringVal("sparc")}), false, "arm64"},
		{"log_retention_days", cty.NumberIntVal(0), true, ""},
		{"log_retention_days", cty.NumberIntVal(1), true, ""},
		{"log_retention_days", cty.NumberIntVal(2), false, "retention periods"},
	}
	m := lambdaModule(t, nil)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%s", tt.variable, tt.value.GoString()), func(t *testing.T) {
			ok, msgs := m.validation(tt.variable, tt.value)
			assert.Equal(t, tt.ok, ok, strings.Join(msgs, " "))
			if !tt.ok {
				assert.Contains(t, strings.Join(msgs, " "), tt.says)
			}
		})
	}
}
