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
		{"creates the function", nil, 1, "zeebe-bridge-work", ref("aws_iam_role.this[*].name"), []string{"Logs", "WorkItems"}, false, 365},
		{"policy name and retention", map[string]cty.Value{"policy_name": cty.StringVal("work"), "log_retention_days": cty.NumberIntVal(1)},
			1, "work", ref("aws_iam_role.this[*].name"), []string{"Logs", "WorkItems"}, false, 1},
		{"x-ray", map[string]cty.Value{"xray_tracing": cty.True}, 1, "zeebe-bridge-work", ref("aws_iam_role.this[*].name"), []string{"Logs", "WorkItems", "XRay"}, true, 365},
		{"existing function", map[string]cty.Value{"create_function": cty.False, "existing_role_name": cty.StringVal("legacy-role"), "filename": cty.NullVal(cty.String)},
			0, "zeebe-bridge-work", "legacy-role", []string{"WorkItems"}, false, 365},
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
		{"policy_statements", stmt("Logs", "Allow", receive, queue), false, "other than Logs, XRay, EnvironmentKey and VPCNetworkInterfaces"},
		{"policy_statements", stmt("XRay", "Allow", receive, queue), false, "other than Logs, XRay, EnvironmentKey and VPCNetworkInterfaces"},
		{"policy_statements", stmt("EnvironmentKey", "Allow", receive, queue), false, "other than Logs, XRay, EnvironmentKey and VPCNetworkInterfaces"},
		{"policy_statements", stmt("VPCNetworkInterfaces", "Allow", receive, queue), false, "other than Logs, XRay, EnvironmentKey and VPCNetworkInterfaces"},
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
		{"log_kms_key_arn", cty.StringVal(kmsKey), true, ""},
		{"log_kms_key_arn", cty.StringVal("alias/logs"), false, "KMS key ARN"},
		{"environment_kms_key_arn", cty.StringVal(kmsKey), true, ""},
		{"environment_kms_key_arn", cty.StringVal("alias/aws/lambda"), false, "KMS key ARN"},
		{"vpc_subnet_ids", cty.ListVal([]cty.Value{cty.StringVal("subnet-0a1b2c3d")}), true, ""},
		{"vpc_subnet_ids", cty.ListVal([]cty.Value{cty.StringVal("sg-0a1b2c3d")}), false, "subnet ids"},
		{"vpc_security_group_ids", cty.ListVal([]cty.Value{cty.StringVal("sg-0a1b2c3d")}), true, ""},
		{"vpc_security_group_ids", cty.ListVal([]cty.Value{cty.StringVal("default")}), false, "security group ids"},
		{"code_signing_config_arn", cty.StringVal(signingConfig), true, ""},
		{"code_signing_config_arn", cty.StringVal("arn:aws:signer:eu-west-1:123456789012:/signing-profiles/bridge"), false, "code signing configuration ARN"},
		{"reserved_concurrent_executions", cty.NumberIntVal(-1), true, ""},
		{"reserved_concurrent_executions", cty.NumberIntVal(5), true, ""},
		{"reserved_concurrent_executions", cty.NumberIntVal(0), false, "0 would throttle every invocation"},
		{"reserved_concurrent_executions", cty.NumberFloatVal(2.5), false, "whole number"},
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

const (
	kmsKey        = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	signingConfig = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
)

// optional is a string attribute, "" where it is null (the provider's default).
func optional(t *testing.T, m *module, addr, path string) string {
	t.Helper()
	if v := m.attr(addr, path); !v.IsNull() {
		return m.str(addr, path)
	}
	return ""
}

// vpcConfig is the function's vpc_config block as the plan has it: nil
// without one.
func vpcConfig(t *testing.T, m *module, addr string) map[string]cty.Value {
	t.Helper()
	m, addr = m.resolve(addr)
	for _, b := range m.resource(addr).Body.Blocks {
		if b.Type != "dynamic" || b.Labels[0] != "vpc_config" {
			continue
		}
		if m.eval(b.Body.Attributes["for_each"].Expr).LengthInt() == 0 {
			return nil
		}
		content := b.Body.Blocks[0].Body
		return map[string]cty.Value{
			"subnet_ids":         m.eval(content.Attributes["subnet_ids"].Expr),
			"security_group_ids": m.eval(content.Attributes["security_group_ids"].Expr),
		}
	}
	require.Fail(t, "no dynamic vpc_config", addr)
	return nil
}

// TestLambdaModuleAccountOptions: the settings an account's policy decides
// (issue 21's scanner checks) land on the function and its log group, and
// the keys and the VPC bring the grants they need, and nothing without them.
func TestLambdaModuleAccountOptions(t *testing.T) {
	subnets := cty.ListVal([]cty.Value{cty.StringVal("subnet-0a1b2c3d"), cty.StringVal("subnet-4e5f6a7b")})
	groups := cty.ListVal([]cty.Value{cty.StringVal("sg-0a1b2c3d")})
	envKey := statement{Sid: "EnvironmentKey", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{kmsKey}}
	network := statement{Sid: "VPCNetworkInterfaces", Effect: "Allow", Action: []string{"ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
		"ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"}, Resource: []string{"*"}}
	tests := []struct {
		name     string
		extra    map[string]cty.Value
		logKey   string
		envKey   string
		signing  string
		reserved int64
		vpc      bool
		sids     []string
	}{
		{"defaults: Lambda's own", nil, "", "", "", -1, false, []string{"Logs", "WorkItems"}},
		{"every option", map[string]cty.Value{
			"log_kms_key_arn": cty.StringVal(kmsKey), "environment_kms_key_arn": cty.StringVal(kmsKey), "code_signing_config_arn": cty.StringVal(signingConfig),
			"reserved_concurrent_executions": cty.NumberIntVal(4), "vpc_subnet_ids": subnets, "vpc_security_group_ids": groups,
		}, kmsKey, kmsKey, signingConfig, 4, true, []string{"Logs", "WorkItems", "EnvironmentKey", "VPCNetworkInterfaces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := lambdaModule(t, tt.extra)
			assert.Equal(t, tt.logKey, optional(t, m, "aws_cloudwatch_log_group.this", "kms_key_id"))
			assert.Equal(t, tt.envKey, optional(t, m, "aws_lambda_function.this", "kms_key_arn"))
			assert.Equal(t, tt.signing, optional(t, m, "aws_lambda_function.this", "code_signing_config_arn"))
			assert.Equal(t, tt.reserved, m.num("aws_lambda_function.this", "reserved_concurrent_executions"))
			assert.Equal(t, tt.sids, sids(t, m, "aws_iam_role_policy.this"))
			stmts := policyStatements(t, m, "aws_iam_role_policy.this")
			vpc := vpcConfig(t, m, "aws_lambda_function.this")
			if tt.vpc {
				assert.Equal(t, `["subnet-0a1b2c3d","subnet-4e5f6a7b"]`, mustJSON(t, vpc["subnet_ids"]))
				assert.Equal(t, `["sg-0a1b2c3d"]`, mustJSON(t, vpc["security_group_ids"]))
				assert.Equal(t, network, stmts["VPCNetworkInterfaces"])
				assert.Equal(t, envKey, stmts["EnvironmentKey"])
			} else {
				assert.Nil(t, vpc)
			}
			ok, msgs := m.preconditions("aws_lambda_function.this")
			assert.True(t, ok, strings.Join(msgs, " "))
		})
	}

	// An existing function keeps its own settings: its role gets no grant for them.
	existing := lambdaModule(t, map[string]cty.Value{"create_function": cty.False, "existing_role_name": cty.StringVal("legacy-role"), "filename": cty.NullVal(cty.String),
		"environment_kms_key_arn": cty.StringVal(kmsKey), "vpc_subnet_ids": subnets, "vpc_security_group_ids": groups})
	assert.Equal(t, []string{"WorkItems"}, sids(t, existing, "aws_iam_role_policy.this"))

	for _, half := range []map[string]cty.Value{{"vpc_subnet_ids": subnets}, {"vpc_security_group_ids": groups}} {
		ok, msgs := lambdaModule(t, half).preconditions("aws_lambda_function.this")
		assert.False(t, ok)
		assert.Equal(t, []string{"vpc_subnet_ids and vpc_security_group_ids go together: set both to put the function in a VPC, or neither."}, msgs)
	}
}
