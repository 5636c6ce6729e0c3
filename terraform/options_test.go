package terraform_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// The settings an account's policy decides (issue 21: what checkov asks
// for), as the bridge and zeebe-lambda modules take them and pass them to
// modules/_lambda; TestLambdaModuleAccountOptions covers what _lambda makes
// of them.

var (
	subnetIDs = cty.ListVal([]cty.Value{cty.StringVal("subnet-0a1b2c3d")})
	groupIDs  = cty.ListVal([]cty.Value{cty.StringVal("sg-0a1b2c3d")})
)

const otherKey = "arn:aws:kms:eu-west-1:123456789012:key/abcd1234-12ab-34cd-56ef-1234567890ab"

// accountOptions are the function options both modules take, set.
func accountOptions() map[string]cty.Value {
	return map[string]cty.Value{
		"log_kms_key_arn":         cty.StringVal(kmsKey),
		"environment_kms_key_arn": cty.StringVal(otherKey),
		"code_signing_config_arn": cty.StringVal(signingConfig),
		"vpc_subnet_ids":          subnetIDs,
		"vpc_security_group_ids":  groupIDs,
	}
}

// TestFunctionOptionsReachEveryFunction: each option given to the bridge or
// to zeebe-lambda lands on every function it creates; the defaults keep
// Lambda's own settings and a year of logs.
func TestFunctionOptionsReachEveryFunction(t *testing.T) {
	callback := map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip")}
	withOptions := func(extra map[string]cty.Value) map[string]cty.Value {
		out := accountOptions()
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	type fn struct {
		m    *module
		addr string // "module.poller."
	}
	set := []fn{{zeebeLambda(t, withOptions(nil)), "module.lambda."}}
	unset := []fn{{zeebeLambda(t, nil), "module.lambda."}}
	b, plain := bridge(t, withOptions(callback)), bridge(t, callback)
	for _, name := range []string{"poller", "fulfiller", "returner", "callback"} {
		set = append(set, fn{b, "module." + name + "."})
		unset = append(unset, fn{plain, "module." + name + "."})
	}
	for _, f := range set {
		t.Run("set "+f.addr, func(t *testing.T) {
			assert.Equal(t, kmsKey, f.m.str(f.addr+"aws_cloudwatch_log_group.this", "kms_key_id"))
			assert.Equal(t, otherKey, f.m.str(f.addr+"aws_lambda_function.this", "kms_key_arn"))
			assert.Equal(t, signingConfig, f.m.str(f.addr+"aws_lambda_function.this", "code_signing_config_arn"))
			vpc := vpcConfig(t, f.m, f.addr+"aws_lambda_function.this")
			assert.Equal(t, `["subnet-0a1b2c3d"]`, mustJSON(t, vpc["subnet_ids"]))
			assert.Equal(t, `["sg-0a1b2c3d"]`, mustJSON(t, vpc["security_group_ids"]))
			stmts := policyStatements(t, f.m, f.addr+"aws_iam_role_policy.this")
			assert.Equal(t, []string{otherKey}, stmts["EnvironmentKey"].Resource)
			assert.Contains(t, stmts, "VPCNetworkInterfaces")
		})
	}
	for _, f := range unset {
		t.Run("default "+f.addr, func(t *testing.T) {
			assert.Equal(t, "", optional(t, f.m, f.addr+"aws_cloudwatch_log_group.this", "kms_key_id"))
			assert.Equal(t, "", optional(t, f.m, f.addr+"aws_lambda_function.this", "kms_key_arn"))
			assert.Equal(t, "", optional(t, f.m, f.addr+"aws_lambda_function.this", "code_signing_config_arn"))
			assert.Equal(t, int64(-1), f.m.num(f.addr+"aws_lambda_function.this", "reserved_concurrent_executions"))
			assert.Nil(t, vpcConfig(t, f.m, f.addr+"aws_lambda_function.this"))
			assert.Equal(t, int64(365), f.m.num(f.addr+"aws_cloudwatch_log_group.this", "retention_in_days"), "a year of logs")
			stmts := policyStatements(t, f.m, f.addr+"aws_iam_role_policy.this")
			for _, sid := range []string{"EnvironmentKey", "VPCNetworkInterfaces", "PayloadKey", "TopicKey"} {
				assert.NotContains(t, stmts, sid)
			}
		})
	}
}

// TestReservedConcurrency: reserved per bridge function, and for a
// zeebe-lambda function; an event source may not start more invocations
// than the function may run, or SQS hands messages to a throttled function
// (a job's only receive, an outcome's ten).
func TestReservedConcurrency(t *testing.T) {
	reserve := func(kv map[string]int64) cty.Value {
		attrs := map[string]cty.Value{}
		for k, v := range kv {
			attrs[k] = cty.NumberIntVal(v)
		}
		return cty.ObjectVal(attrs)
	}
	b := bridge(t, map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip"),
		"reserved_concurrent_executions": reserve(map[string]int64{"poller": 2, "fulfiller": 20})})
	for fn, want := range map[string]int64{"poller": 2, "fulfiller": 20, "returner": -1, "callback": -1} {
		assert.Equal(t, want, b.num("module."+fn+".aws_lambda_function.this", "reserved_concurrent_executions"), fn)
	}
	assert.Equal(t, int64(7), zeebeLambda(t, map[string]cty.Value{"reserved_concurrent_executions": cty.NumberIntVal(7), "maximum_concurrency": cty.NumberIntVal(7)}).
		num("module.lambda.aws_lambda_function.this", "reserved_concurrent_executions"))

	tests := []struct {
		name string
		m    *module
		addr string
		says string
	}{
		{"function, none reserved", zeebeLambda(t, nil), "aws_lambda_event_source_mapping.this", ""},
		{"function, as many reserved", zeebeLambda(t, map[string]cty.Value{"reserved_concurrent_executions": cty.NumberIntVal(10)}), "aws_lambda_event_source_mapping.this", ""},
		{"function, fewer reserved", zeebeLambda(t, map[string]cty.Value{"reserved_concurrent_executions": cty.NumberIntVal(9)}), "aws_lambda_event_source_mapping.this",
			"maximum_concurrency (10) is above reserved_concurrent_executions (9)"},
		{"fulfiller, none reserved", bridge(t, nil), "aws_lambda_event_source_mapping.fulfiller", ""},
		{"fulfiller, as many reserved", bridge(t, map[string]cty.Value{"reserved_concurrent_executions": reserve(map[string]int64{"fulfiller": 10})}), "aws_lambda_event_source_mapping.fulfiller", ""},
		{"fulfiller, fewer reserved", bridge(t, map[string]cty.Value{"reserved_concurrent_executions": reserve(map[string]int64{"fulfiller": 5})}), "aws_lambda_event_source_mapping.fulfiller",
			"fulfiller_maximum_concurrency (10) is above the fulfiller's reserved concurrency (5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, msgs := tt.m.preconditions(tt.addr)
			assert.Equal(t, tt.says == "", ok, strings.Join(msgs, " "))
			if tt.says != "" {
				require.Len(t, msgs, 1)
				assert.Contains(t, msgs[0], tt.says)
			}
		})
	}
}

// TestPayloadBucketKey: with a customer managed key the bucket encrypts
// with it (and a bucket key), and every role that reads or writes payloads
// may use it: the bridge's four, and a zeebe-lambda function given the
// bridge's `payloads` output.
func TestPayloadBucketKey(t *testing.T) {
	sse := "rule.apply_server_side_encryption_by_default."
	plain := bridge(t, nil)
	assert.Equal(t, "AES256", plain.str("aws_s3_bucket_server_side_encryption_configuration.payloads", sse+"sse_algorithm"))
	assert.True(t, plain.attr("aws_s3_bucket_server_side_encryption_configuration.payloads", sse+"kms_master_key_id").IsNull())
	assert.True(t, plain.attr("aws_s3_bucket_server_side_encryption_configuration.payloads", "rule.bucket_key_enabled").IsNull())
	assert.True(t, plain.eval(plain.outputs["payloads"]).GetAttr("kms_key_arn").IsNull())

	b := bridge(t, map[string]cty.Value{"payload_kms_key_arn": cty.StringVal(kmsKey), "callback_filename": cty.StringVal("dist/zeebe-callback.zip")})
	assert.Equal(t, "aws:kms", b.str("aws_s3_bucket_server_side_encryption_configuration.payloads", sse+"sse_algorithm"))
	assert.Equal(t, kmsKey, b.str("aws_s3_bucket_server_side_encryption_configuration.payloads", sse+"kms_master_key_id"))
	assert.True(t, b.attr("aws_s3_bucket_server_side_encryption_configuration.payloads", "rule.bucket_key_enabled").True())
	key := statement{Sid: "PayloadKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{kmsKey}}
	for _, fn := range []string{"poller", "fulfiller", "returner", "callback"} {
		assert.Equal(t, key, policyStatements(t, b, "module."+fn+".aws_iam_role_policy.this")["PayloadKey"], fn)
		assert.NotContains(t, policyStatements(t, plain, "module."+fn+".aws_iam_role_policy.this"), "PayloadKey", fn)
	}

	payloads := b.eval(b.outputs["payloads"])
	assert.Equal(t, kmsKey, payloads.GetAttr("kms_key_arn").AsString())
	f := zeebeLambda(t, map[string]cty.Value{"payloads": payloads})
	assert.Equal(t, key, policyStatements(t, f, "module.lambda.aws_iam_role_policy.this")["PayloadKey"])
	// The bridge's output of a release before the key: no kms_key_arn at all.
	older := cty.ObjectVal(map[string]cty.Value{"bucket_name": cty.StringVal("zeebe-bridge-payloads"),
		"bucket_arn": cty.StringVal("arn:aws:s3:::zeebe-bridge-payloads"), "threshold": cty.NumberIntVal(204800)})
	stmts := policyStatements(t, zeebeLambda(t, map[string]cty.Value{"payloads": older}), "module.lambda.aws_iam_role_policy.this")
	assert.Contains(t, stmts, "OffloadOutcomes")
	assert.NotContains(t, stmts, "PayloadKey")
}

// TestTopicKey: publishers to topics encrypted with a customer managed key
// may use it; the AWS managed aws/sns key (the default) and an alias get no
// grant (IAM cannot grant on an alias; the bridge refuses one at plan time,
// TestTopicKeyMustBeAnARN).
func TestTopicKey(t *testing.T) {
	key := statement{Sid: "TopicKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{kmsKey}}
	tests := []struct {
		name  string
		topic string
		grant bool
	}{
		{"aws/sns", "alias/aws/sns", false},
		{"an alias", "alias/zeebe-bridge", false},
		{"a key ARN", kmsKey, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bridge(t, map[string]cty.Value{"sns_kms_master_key_id": cty.StringVal(tt.topic), "callback_filename": cty.StringVal("dist/zeebe-callback.zip")})
			assert.Equal(t, tt.topic, b.str("aws_sns_topic.jobs", "kms_master_key_id"))
			out := b.eval(b.outputs["topic_kms_key_arn"])
			for _, fn := range []string{"poller", "returner", "callback"} {
				stmts := policyStatements(t, b, "module."+fn+".aws_iam_role_policy.this")
				if tt.grant {
					assert.Equal(t, key, stmts["TopicKey"], fn)
				} else {
					assert.NotContains(t, stmts, "TopicKey", fn)
				}
			}
			assert.NotContains(t, policyStatements(t, b, "module.fulfiller.aws_iam_role_policy.this"), "TopicKey", "the fulfiller publishes nothing")
			if tt.grant {
				assert.Equal(t, kmsKey, out.AsString())
			} else {
				assert.True(t, out.IsNull())
			}
		})
	}
	f := zeebeLambda(t, map[string]cty.Value{"outcomes_topic_kms_key_arn": cty.StringVal(kmsKey)})
	assert.Equal(t, key, policyStatements(t, f, "module.lambda.aws_iam_role_policy.this")["TopicKey"])
}

// TestPayloadAccessLogs: server access logs go where the account keeps them,
// and nowhere without a target.
func TestPayloadAccessLogs(t *testing.T) {
	assert.Equal(t, int64(0), bridge(t, nil).instances("aws_s3_bucket_logging.payloads"))
	tests := []struct {
		name   string
		logs   cty.Value
		prefix string
	}{
		{"default prefix", cty.ObjectVal(map[string]cty.Value{"bucket": cty.StringVal("acme-access-logs")}), "zeebe-bridge-payloads/"},
		{"own prefix", cty.ObjectVal(map[string]cty.Value{"bucket": cty.StringVal("acme-access-logs"), "prefix": cty.StringVal("s3/bridge/")}), "s3/bridge/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bridge(t, map[string]cty.Value{"payload_access_logs": tt.logs})
			assert.Equal(t, int64(1), b.instances("aws_s3_bucket_logging.payloads"))
			assert.Equal(t, ref("aws_s3_bucket.payloads.id"), b.str("aws_s3_bucket_logging.payloads", "bucket"))
			assert.Equal(t, "acme-access-logs", b.str("aws_s3_bucket_logging.payloads", "target_bucket"))
			assert.Equal(t, tt.prefix, b.str("aws_s3_bucket_logging.payloads", "target_prefix"))
		})
	}
}

// TestAccountOptionValidation: each new variable of the bridge and
// zeebe-lambda refuses what AWS would refuse at apply time, or what would
// break the bridge.
func TestAccountOptionValidation(t *testing.T) {
	reserve := func(fn string, n float64) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{fn: cty.NumberFloatVal(n)})
	}
	logs := func(bucket string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"bucket": cty.StringVal(bucket), "prefix": cty.StringVal("p/")})
	}
	b, f := bridge(t, nil), zeebeLambda(t, nil)
	tests := []struct {
		m        *module
		variable string
		value    cty.Value
		says     string // "" if valid
	}{
		{b, "log_kms_key_arn", cty.StringVal(kmsKey), ""},
		{b, "log_kms_key_arn", cty.StringVal("alias/logs"), "KMS key ARN"},
		{b, "environment_kms_key_arn", cty.StringVal("1234abcd-12ab-34cd-56ef-1234567890ab"), "KMS key ARN"},
		{b, "payload_kms_key_arn", cty.StringVal(kmsKey), ""},
		{b, "payload_kms_key_arn", cty.StringVal("alias/aws/s3"), "KMS key ARN"},
		{b, "vpc_subnet_ids", cty.ListVal([]cty.Value{cty.StringVal("vpc-0a1b2c3d")}), "subnet ids"},
		{b, "vpc_security_group_ids", cty.ListVal([]cty.Value{cty.StringVal("subnet-0a1b2c3d")}), "security group ids"},
		{b, "code_signing_config_arn", cty.StringVal("csc-0123456789abcdef0"), "code signing configuration ARN"},
		{b, "reserved_concurrent_executions", reserve("poller", 2), ""},
		{b, "reserved_concurrent_executions", reserve("poller", 1), "consecutive poller runs overlap"},
		{b, "reserved_concurrent_executions", reserve("returner", -1), ""},
		{b, "reserved_concurrent_executions", reserve("callback", 0), "0 would throttle every invocation"},
		{b, "reserved_concurrent_executions", reserve("fulfiller", 1.5), "whole number"},
		{b, "payload_access_logs", logs("acme-access-logs"), ""},
		{b, "payload_access_logs", logs("Acme_Logs"), "S3 bucket name"},
		{f, "log_kms_key_arn", cty.StringVal("alias/logs"), "KMS key ARN"},
		{f, "environment_kms_key_arn", cty.StringVal(kmsKey), ""},
		{f, "outcomes_topic_kms_key_arn", cty.StringVal(kmsKey), ""},
		{f, "outcomes_topic_kms_key_arn", cty.StringVal("alias/aws/sns"), "KMS key ARN"},
		{f, "vpc_subnet_ids", cty.ListVal([]cty.Value{cty.StringVal("subnet-xyz")}), "subnet ids"},
		{f, "vpc_security_group_ids", cty.ListVal([]cty.Value{cty.StringVal("sg-0a1b2c3d")}), ""},
		{f, "code_signing_config_arn", cty.StringVal(signingConfig), ""},
		{f, "reserved_concurrent_executions", cty.NumberIntVal(0), "0 would throttle every invocation"},
		{f, "reserved_concurrent_executions", cty.NumberIntVal(10), ""},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value.GoString(), func(t *testing.T) {
			ok, msgs := tt.m.validation(tt.variable, tt.value)
			assert.Equal(t, tt.says == "", ok, strings.Join(msgs, " "))
			if tt.says != "" {
				assert.Contains(t, strings.Join(msgs, " "), tt.says)
			}
		})
	}
}

// TestJobTokenKey: the roles that read the keyring (poller, fulfiller,
// callback) may decrypt it with its customer managed key; the returner,
// which never reads it, may not, and the aws/secretsmanager key (null) or
// an alias brings no grant.
func TestJobTokenKey(t *testing.T) {
	key := statement{Sid: "JobTokenKey", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{kmsKey}}
	tests := []struct {
		name  string
		value cty.Value
		grant bool
	}{
		{"aws/secretsmanager", cty.NullVal(cty.String), false},
		{"an alias", cty.StringVal("alias/zeebe-bridge"), false},
		{"a key ARN", cty.StringVal(kmsKey), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bridge(t, map[string]cty.Value{"job_token_kms_key_id": tt.value, "callback_filename": cty.StringVal("dist/zeebe-callback.zip")})
			for _, fn := range []string{"poller", "fulfiller", "callback"} {
				stmts := policyStatements(t, b, "module."+fn+".aws_iam_role_policy.this")
				if tt.grant {
					assert.Equal(t, key, stmts["JobTokenKey"], fn)
				} else {
					assert.NotContains(t, stmts, "JobTokenKey", fn)
				}
			}
			assert.NotContains(t, policyStatements(t, b, "module.returner.aws_iam_role_policy.this"), "JobTokenKey")
		})
	}
}
