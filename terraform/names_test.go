package terraform_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/iampolicy"
)

// TestNamePrefix: every name the bridge gives carries its prefix, so that
// two bridges sit side by side in one account and region; without one the
// names stay those of a bridge alone in its account.
func TestNamePrefix(t *testing.T) {
	names := func(p string) map[string]string {
		return map[string]string{
			"aws_sns_topic.jobs":                             p + "zeebe_jobs",
			"aws_sns_topic.outcomes":                         p + "zeebe_jobs2complete",
			"aws_sqs_queue.outcomes":                         p + "zeebe_jobs2complete",
			"aws_sqs_queue.outcomes_dlq":                     p + "zeebe_jobs2complete_dlq",
			"module.poller.aws_lambda_function.this":         p + "zeebe-poller",
			"module.fulfiller.aws_lambda_function.this":      p + "zeebe-fulfiller",
			"module.returner.aws_lambda_function.this":       p + "zeebe-returner",
			"module.callback.aws_lambda_function.this":       p + "zeebe-callback",
			"module.poller.aws_iam_role.this":                p + "zeebe-poller",
			"module.fulfiller.aws_iam_role.this":             p + "zeebe-fulfiller",
			"module.returner.aws_iam_role.this":              p + "zeebe-returner",
			"module.callback.aws_iam_role.this":              p + "zeebe-callback",
			"module.poller.aws_cloudwatch_log_group.this":    "/aws/lambda/" + p + "zeebe-poller",
			"module.returner.aws_cloudwatch_log_group.this":  "/aws/lambda/" + p + "zeebe-returner",
			"aws_cloudwatch_event_rule.poller":               p + "zeebe-poller-schedule",
			"aws_cloudwatch_metric_alarm.poller_not_running": p + "zeebe-poller-not-running",
			"aws_lambda_layer_version.runtime_proxy":         p + "zeebe-runtime-proxy",
			"aws_secretsmanager_secret.job_token":            p + "zeebe-bridge-job-token-",
			"aws_s3_bucket.payloads":                         p + "zeebe-bridge-payloads-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}",
		}
	}
	attrs := map[string]string{"aws_lambda_function": "function_name", "aws_cloudwatch_metric_alarm": "alarm_name",
		"aws_lambda_layer_version": "layer_name", "aws_secretsmanager_secret": "name_prefix", "aws_s3_bucket": "bucket"}
	for _, prefix := range []string{"", "staging-"} {
		b := bridge(t, map[string]cty.Value{"name_prefix": cty.StringVal(prefix), "callback_filename": cty.StringVal("dist/zeebe-callback.zip"),
			"runtime_proxy_layer_filename": cty.StringVal("dist/zeebe-runtime-proxy.zip"), "poller_schedule": cty.StringVal("rate(1 minute)")})
		for addr, want := range names(prefix) {
			attr := "name"
			if a, ok := attrs[strings.Split(addr[strings.LastIndex(addr, "aws_"):], ".")[0]]; ok {
				attr = a
			}
			assert.Equal(t, want, b.str(addr, attr), "%s with prefix %q", addr, prefix)
		}
		assert.Equal(t, ref("aws_sqs_queue.outcomes_dlq.name")+"-not-empty", b.str("aws_cloudwatch_metric_alarm.outcomes_dlq", "alarm_name"))
		bridgeName := prefix + "zeebe-bridge"
		assert.Equal(t, bridgeName, b.eval(b.outputs["bridge_name"]).AsString())
		assert.Equal(t, prefix, b.eval(b.outputs["name_prefix"]).AsString())
		for _, fn := range []string{"poller", "fulfiller", "returner", "callback"} {
			env := b.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
			assert.Equal(t, bridgeName, env["ZEEBE_BRIDGE_NAME"].AsString(), "%s's metrics carry the bridge's name", fn)
			tags := b.attr("module."+fn+".aws_iam_role.this", "tags").AsValueMap()
			assert.Equal(t, bridgeName, tags["zeebe-bridge"].AsString(), "%s's role carries the tag the resource policies trust", fn)
		}
	}
	for _, tt := range []struct {
		prefix string
		ok     bool
	}{{"", true}, {"staging-", true}, {"a-", true}, {"abcdefghijkl-", true}, {"abcdefghijklm-", false}, {"staging", false}, {"Staging-", false}, {"1st-", false}, {"st_a-", false}} {
		ok, _ := bridge(t, nil).validation("name_prefix", cty.StringVal(tt.prefix))
		assert.Equal(t, tt.ok, ok, "bridge name_prefix %q", tt.prefix)
		ok, _ = zeebeLambda(t, nil).validation("name_prefix", cty.StringVal(tt.prefix))
		assert.Equal(t, tt.ok, ok, "zeebe-lambda name_prefix %q", tt.prefix)
	}
}

// TestIdentifierAndPrefixInZeebeLambda: the same model's identifier runs
// staging-book-hotel in one bridge and book-hotel in another; queues, filter
// and payload prefixes follow the identifier, the function keeps its name.
func TestIdentifierAndPrefixInZeebeLambda(t *testing.T) {
	payloads := cty.ObjectVal(map[string]cty.Value{
		"bucket_name": cty.StringVal("b"), "bucket_arn": cty.StringVal("arn:aws:s3:::b"), "threshold": cty.NumberIntVal(204800),
	})
	m := zeebeLambda(t, map[string]cty.Value{"function_name": cty.StringVal("staging-book-hotel"), "identifier": cty.StringVal("book-hotel"),
		"name_prefix": cty.StringVal("staging-"), "payloads": payloads})
	assert.Equal(t, "staging-zeebe_book-hotel", m.str("aws_sqs_queue.this", "name"))
	assert.Equal(t, "staging-zeebe_book-hotel_dlq", m.str("aws_sqs_queue.dlq", "name"))
	assert.Equal(t, `{"lambdaIdentifier":["book-hotel"]}`, m.str("aws_sns_topic_subscription.this", "filter_policy"))
	assert.Equal(t, "staging-book-hotel", m.str("module.lambda.aws_lambda_function.this", "function_name"))
	assert.Equal(t, "staging-book-hotel", m.str("module.lambda.aws_iam_role.this", "name"))
	assert.Equal(t, "staging-zeebe-bridge", m.attr("module.lambda.aws_iam_role.this", "tags").AsValueMap()["zeebe-bridge"].AsString())
	env := m.attr("module.lambda.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, "staging-zeebe-bridge", env["ZEEBE_BRIDGE_NAME"].AsString())
	got := policyStatements(t, m, "module.lambda.aws_iam_role_policy.this")
	assert.Equal(t, []string{"arn:aws:s3:::b/jobs/book-hotel/*"}, got["ReadOffloadedJobs"].Resource)
	assert.Equal(t, []string{"arn:aws:s3:::b/outcomes/book-hotel/*"}, got["OffloadOutcomes"].Resource)
	assert.Contains(t, m.str("aws_cloudwatch_metric_alarm.dlq", "alarm_description"), "Job messages of book-hotel")

	// Without either, the names of a bridge alone in its account.
	d := zeebeLambda(t, nil)
	assert.Equal(t, "zeebe_book-hotel", d.str("aws_sqs_queue.this", "name"))
	assert.Equal(t, `{"lambdaIdentifier":["book-hotel"]}`, d.str("aws_sns_topic_subscription.this", "filter_policy"))
	assert.Equal(t, "zeebe-bridge", d.attr("module.lambda.aws_iam_role.this", "tags").AsValueMap()["zeebe-bridge"].AsString())

	ok, msgs := zeebeLambda(t, map[string]cty.Value{"name_prefix": cty.StringVal("abcdefghijkl-"),
		"function_name": cty.StringVal(strings.Repeat("f", 64))}).preconditions("aws_sqs_queue.dlq")
	assert.False(t, ok, "a 64-character name with a 13-character prefix is too long for a queue")
	assert.Contains(t, strings.Join(msgs, " "), "longer than SQS's 80 characters")
	for _, id := range []string{"", "has space", strings.Repeat("i", 57)} {
		ok, _ := d.validation("identifier", cty.StringVal(id))
		assert.False(t, ok, "identifier %q", id)
	}
}

// TestReturnerReadsEveryDLQOfItsBridge: the bridge's one statement covers
// the DLQ of any function given its prefix, and no other bridge's.
func TestReturnerReadsEveryDLQOfItsBridge(t *testing.T) {
	for _, tt := range []struct{ prefix, other string }{{"", "b-"}, {"b-", ""}, {"a-", "a-b-"}} {
		b := bridge(t, map[string]cty.Value{"name_prefix": cty.StringVal(tt.prefix)})
		grant := policyStatements(t, b, "module.returner.aws_iam_role_policy.this")["ReturnDeadLetteredJobs"]
		require.Len(t, grant.Resource, 1)
		for _, id := range []string{"book-hotel", "x", "zeebe_jobs"} {
			own := zeebeLambda(t, map[string]cty.Value{"name_prefix": cty.StringVal(tt.prefix), "identifier": cty.StringVal(id)})
			other := zeebeLambda(t, map[string]cty.Value{"name_prefix": cty.StringVal(tt.other), "identifier": cty.StringVal(id)})
			assert.True(t, iampolicy.Like(grant.Resource[0], sqsARN+":"+own.str("aws_sqs_queue.dlq", "name")), "prefix %q, %s", tt.prefix, id)
			assert.False(t, iampolicy.Like(grant.Resource[0], sqsARN+":"+other.str("aws_sqs_queue.dlq", "name")), "prefix %q, the other bridge's %s", tt.prefix, id)
			assert.False(t, iampolicy.Like(grant.Resource[0], sqsARN+":"+own.str("aws_sqs_queue.this", "name")), "not the job queue itself")
		}
	}
}

// TestTopicKeyMustBeAnARN: a customer-managed topic key is granted to the
// publishers by its ARN (TestTopicKey), so an alias other than the
// AWS-managed aws/sns, which IAM cannot grant, is refused at plan time.
func TestTopicKeyMustBeAnARN(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	d := bridge(t, nil)
	for _, tt := range []struct {
		v  cty.Value
		ok bool
	}{{cty.StringVal("alias/aws/sns"), true}, {cty.NullVal(cty.String), true}, {cty.StringVal(key), true},
		{cty.StringVal("alias/mine"), false}, {cty.StringVal("arn:aws:kms:eu-west-1:123456789012:alias/mine"), false}} {
		ok, msgs := d.validation("sns_kms_master_key_id", tt.v)
		assert.Equal(t, tt.ok, ok, tt.v.GoString())
		if !ok {
			assert.Contains(t, strings.Join(msgs, " "), "granted the key by its ARN")
		}
	}
}

// IAM's and the services' limits on policy documents, in characters without
// white space (IAM) or bytes.
const (
	inlineRolePolicies = 10240 // all inline policies of one role together
	topicPolicy        = 30 << 10
	bucketPolicy       = 20 << 10
	secretPolicy       = 20480
)

// placeholders stands in, in a rendered policy, for each value only AWS
// knows, with the longest it can be.
var placeholders = regexp.MustCompile(`\$\{[^}]*\}`)

func worstCase(ref string) string {
	switch {
	case strings.Contains(ref, "partition"):
		return "aws-us-gov"
	case strings.Contains(ref, "region"):
		return "ap-southeast-2"
	case strings.Contains(ref, "account_id"):
		return "123456789012"
	}
	return "arn:aws-us-gov:service:ap-southeast-2:123456789012:" + strings.Repeat("n", 80) // an ARN with an 80-character name
}

func policySize(t *testing.T, doc string) int {
	t.Helper()
	doc = placeholders.ReplaceAllStringFunc(doc, worstCase)
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v), doc)
	compact, err := json.Marshal(v)
	require.NoError(t, err)
	return len(compact)
}

// TestPolicySizesForThreeHundredFunctions renders a bridge and 300
// zeebe-lambda modules, and checks every policy document against its
// limit: nothing the bridge owns grows with the number of functions.
func TestPolicySizesForThreeHundredFunctions(t *testing.T) {
	const functions = 300
	returner := cty.ObjectVal(map[string]cty.Value{
		"function_arn": cty.StringVal("arn:aws:lambda:eu-west-1:123456789012:function:big-zeebe-returner"),
		"role_name":    cty.StringVal("big-zeebe-returner"),
		"timeout":      cty.NumberIntVal(20),
	})
	payloads := cty.ObjectVal(map[string]cty.Value{
		"bucket_name": cty.StringVal("big-zeebe-bridge-payloads"), "bucket_arn": cty.StringVal("arn:aws:s3:::big-zeebe-bridge-payloads"), "threshold": cty.NumberIntVal(204800),
	})
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	b := bridge(t, map[string]cty.Value{"name_prefix": cty.StringVal("big-"), "callback_filename": cty.StringVal("dist/zeebe-callback.zip"),
		"zeebe_client_secret_arn": cty.StringVal("arn:aws:secretsmanager:eu-west-1:123456789012:secret:zeebe-AbCdEf"), "zeebe_client_id": cty.StringVal("c"),
		"sns_kms_master_key_id": cty.StringVal(key), "xray_tracing": cty.True,
		"poller_daemon_role_arns": cty.ListVal([]cty.Value{cty.StringVal("arn:aws:iam::123456789012:role/daemon")}),
		"trusted_principal_arns":  cty.ListVal([]cty.Value{cty.StringVal("arn:aws:iam::123456789012:role/operator")})})

	// Inline policies by the role they are on.
	onRole := map[string][]string{}
	for _, fn := range []string{"poller", "fulfiller", "returner", "callback"} {
		onRole[b.str("module."+fn+".aws_iam_role_policy.this", "role")] = append(onRole[b.str("module."+fn+".aws_iam_role_policy.this", "role")],
			b.str("module."+fn+".aws_iam_role_policy.this", "policy"))
	}
	queuePolicies := 0
	for i := 0; i < functions; i++ {
		name := fmt.Sprintf("big-function-%03d", i)
		m := zeebeLambda(t, map[string]cty.Value{"function_name": cty.StringVal(name), "name_prefix": cty.StringVal("big-"),
			"returner": returner, "payloads": payloads, "outcomes_topic_kms_key_arn": cty.StringVal(key), "xray_tracing": cty.True})
		for addr := range m.resources {
			if strings.HasPrefix(addr, "aws_iam_role_policy.") {
				// Anything a function's module puts on another role.
				onRole[m.str(addr, "role")] = append(onRole[m.str(addr, "role")], m.str(addr, "policy"))
			}
		}
		// The function's own role is its own: its placeholder would be the
		// same in every module.
		onRole[name] = append(onRole[name], m.str("module.lambda.aws_iam_role_policy.this", "policy"))
		assert.LessOrEqual(t, policySize(t, m.str("aws_sqs_queue_policy.this", "policy")), 8192, "%s's queue policy", name)
		queuePolicies++
	}
	assert.Equal(t, functions, queuePolicies)
	assert.Len(t, onRole, 4+functions, "the bridge's four roles and one per function: no policy lands on another role")
	for role, docs := range onRole {
		total := 0
		for _, d := range docs {
			total += policySize(t, d)
		}
		assert.LessOrEqual(t, total, inlineRolePolicies, "inline policies of role %s", role)
	}
	returnerRole := b.str("module.returner.aws_iam_role_policy.this", "role")
	assert.Len(t, onRole[returnerRole], 1, "the returner's role has its own policy only, for any number of functions")
	t.Logf("largest: returner %d characters of %d", policySize(t, onRole[returnerRole][0]), inlineRolePolicies)

	for _, tt := range []struct {
		addr, attr string
		limit      int
	}{
		{"aws_sns_topic_policy.jobs", "policy", topicPolicy},
		{"aws_sns_topic_policy.outcomes", "policy", topicPolicy},
		{"aws_s3_bucket_policy.payloads", "policy", bucketPolicy},
		{"aws_secretsmanager_secret_policy.job_token", "policy", secretPolicy},
	} {
		assert.LessOrEqual(t, policySize(t, b.str(tt.addr, tt.attr)), tt.limit, tt.addr)
	}
}
