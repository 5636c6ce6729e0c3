package terraform_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

const (
	jobsTopic     = "arn:aws:sns:eu-west-1:123456789012:zeebe_jobs"
	outcomesTopic = "arn:aws:sns:eu-west-1:123456789012:zeebe_jobs2complete"
)

func zeebeLambda(t *testing.T, extra map[string]cty.Value) *module {
	vars := map[string]cty.Value{
		"function_name":      cty.StringVal("book-hotel"),
		"filename":           cty.StringVal("dist/book-hotel.zip"),
		"timeout":            cty.NumberIntVal(20),
		"jobs_topic_arn":     cty.StringVal(jobsTopic),
		"outcomes_topic_arn": cty.StringVal(outcomesTopic),
	}
	for k, v := range extra {
		vars[k] = v
	}
	return loadModule(t, "modules/zeebe-lambda", vars)
}

func TestZeebeLambdaQueues(t *testing.T) {
	m := zeebeLambda(t, nil)
	assert.Equal(t, "zeebe_book-hotel", m.str("aws_sqs_queue.this", "name"))
	assert.Equal(t, "zeebe_book-hotel_dlq", m.str("aws_sqs_queue.dlq", "name"))
	assert.Equal(t, int64(120), m.num("aws_sqs_queue.this", "visibility_timeout_seconds"), "6 x the 20 s timeout")

	var redrive struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}
	m.jsonDoc("aws_sqs_queue_redrive_policy.this", "redrive_policy", &redrive)
	assert.Equal(t, ref("aws_sqs_queue.this.id"), m.str("aws_sqs_queue_redrive_policy.this", "queue_url"))
	assert.Equal(t, 1, redrive.MaxReceiveCount, "SQS must never retry a job")
	assert.Equal(t, ref("aws_sqs_queue.dlq.arn"), redrive.DeadLetterTargetArn)

	for _, q := range []string{"aws_sqs_queue.this", "aws_sqs_queue.dlq"} {
		assert.True(t, m.attr(q, "sqs_managed_sse_enabled").True(), "%s is encrypted", q)
	}

	var qp struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
			Resource  string
			Condition map[string]map[string]string
		}
	}
	m.jsonDoc("aws_sqs_queue_policy.this", "policy", &qp)
	require.Len(t, qp.Statement, 1, "the queue admits one sender")
	s := qp.Statement[0]
	assert.Equal(t, map[string]string{"Service": "sns.amazonaws.com"}, s.Principal)
	assert.Equal(t, "sqs:SendMessage", s.Action)
	assert.Equal(t, ref("aws_sqs_queue.this.arn"), s.Resource)
	assert.Equal(t, jobsTopic, s.Condition["ArnEquals"]["aws:SourceArn"], "only the zeebe_jobs topic")
}

func TestZeebeLambdaSubscriptionAndTrigger(t *testing.T) {
	m := zeebeLambda(t, nil)
	assert.Equal(t, jobsTopic, m.str("aws_sns_topic_subscription.this", "topic_arn"))
	assert.Equal(t, "sqs", m.str("aws_sns_topic_subscription.this", "protocol"))
	assert.Equal(t, ref("aws_sqs_queue.this.arn"), m.str("aws_sns_topic_subscription.this", "endpoint"))
	assert.True(t, m.attr("aws_sns_topic_subscription.this", "raw_message_delivery").True())
	assert.JSONEq(t, `{"lambdaIdentifier":["book-hotel"]}`, m.str("aws_sns_topic_subscription.this", "filter_policy"))
	assert.Equal(t, "MessageAttributes", m.str("aws_sns_topic_subscription.this", "filter_policy_scope"))

	assert.Equal(t, ref("aws_sqs_queue.this.arn"), m.str("aws_lambda_event_source_mapping.this", "event_source_arn"))
	assert.Equal(t, `["ReportBatchItemFailures"]`, mustJSON(t, m.attr("aws_lambda_event_source_mapping.this", "function_response_types")))
	assert.Equal(t, ref("module.lambda.aws_lambda_function.this[*].arn"), m.str("aws_lambda_event_source_mapping.this", "function_name"))

	env := m.attr("module.lambda.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, outcomesTopic, env["ZEEBE_FULFILLER_SNS_ARN"].AsString())
	assert.Equal(t, int64(20), m.num("module.lambda.aws_lambda_function.this", "timeout"))
	assert.Equal(t, "provided.al2023", m.str("module.lambda.aws_lambda_function.this", "runtime"))

	attached := zeebeLambda(t, map[string]cty.Value{
		"create_function":    cty.False,
		"function_arn":       cty.StringVal("arn:aws:lambda:eu-west-1:123456789012:function:book-hotel"),
		"existing_role_name": cty.StringVal("legacy-role"),
	})
	assert.Equal(t, "arn:aws:lambda:eu-west-1:123456789012:function:book-hotel", attached.str("aws_lambda_event_source_mapping.this", "function_name"))
	assert.Equal(t, "legacy-role", attached.str("module.lambda.aws_iam_role_policy.this", "role"))
}

func TestZeebeLambdaEventSourceCapsConcurrency(t *testing.T) {
	tests := []struct {
		name  string
		extra map[string]cty.Value
		want  int64
	}{
		{"default", nil, 10},
		{"set", map[string]cty.Value{"maximum_concurrency": cty.NumberIntVal(50)}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := zeebeLambda(t, tt.extra)
			assert.Equal(t, tt.want, m.num("aws_lambda_event_source_mapping.this", "scaling_config.maximum_concurrency"))
		})
	}
	assert.Equal(t, int64(10), bridge(t, nil).num("aws_lambda_event_source_mapping.fulfiller", "scaling_config.maximum_concurrency"))
}

// TestZeebeLambdaLogGroupOnlyWithTheFunction: an existing function already
// has its log group (Lambda creates it on the first run); creating it again
// would fail the apply.
// A lone job must not wait for a batching window: the default invokes as
// soon as a receive returns, and a busy queue fills batches anyway.
func TestEventSourceBatchingWindow(t *testing.T) {
	tests := []struct {
		name string
		m    *module
		addr string
		want int64
	}{
		{"function, default", zeebeLambda(t, nil), "aws_lambda_event_source_mapping.this", 0},
		{"function, set", zeebeLambda(t, map[string]cty.Value{"maximum_batching_window_in_seconds": cty.NumberIntVal(2)}), "aws_lambda_event_source_mapping.this", 2},
		{"fulfiller, default", bridge(t, nil), "aws_lambda_event_source_mapping.fulfiller", 0},
		{"fulfiller, set", bridge(t, map[string]cty.Value{"fulfiller_batching_window_in_seconds": cty.NumberIntVal(1)}), "aws_lambda_event_source_mapping.fulfiller", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.m.num(tt.addr, "maximum_batching_window_in_seconds"))
			assert.Equal(t, int64(10), tt.m.num(tt.addr, "batch_size"))
		})
	}
	ok, msgs := zeebeLambda(t, nil).validation("maximum_batching_window_in_seconds", cty.NumberIntVal(301))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "between 0 and 300")
}

func TestZeebeLambdaLogGroupOnlyWithTheFunction(t *testing.T) {
	tests := []struct {
		name       string
		extra      map[string]cty.Value
		groups     int64
		statements []string
	}{
		{"module creates the function", nil, 1, []string{"DeadLetterJobs", "Logs", "PublishOutcomes", "ReceiveJobs"}},
		{"existing function", map[string]cty.Value{
			"create_function":    cty.False,
			"function_arn":       cty.StringVal("arn:aws:lambda:eu-west-1:123456789012:function:book-hotel"),
			"existing_role_name": cty.StringVal("legacy-role"),
		}, 0, []string{"DeadLetterJobs", "PublishOutcomes", "ReceiveJobs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := zeebeLambda(t, tt.extra)
			assert.Equal(t, tt.groups, m.instances("module.lambda.aws_cloudwatch_log_group.this"))
			var sids []string
			for sid := range policyStatements(t, m, "module.lambda.aws_iam_role_policy.this") {
				sids = append(sids, sid)
			}
			assert.ElementsMatch(t, tt.statements, sids)
		})
	}
}

// TestIAMNames: every role the modules create is named after its function,
// its inline policy zeebe-bridge-<function>.
func TestIAMNames(t *testing.T) {
	m := zeebeLambda(t, nil)
	assert.Equal(t, "book-hotel", m.str("module.lambda.aws_iam_role.this", "name"))
	assert.Equal(t, "zeebe-bridge-book-hotel", m.str("module.lambda.aws_iam_role_policy.this", "name"))
	b := bridge(t, map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip")})
	for _, fn := range []string{"poller", "fulfiller", "returner", "callback"} {
		name := b.str("module."+fn+".aws_lambda_function.this", "function_name")
		assert.Equal(t, "zeebe-"+fn, name)
		assert.Equal(t, name, b.str("module."+fn+".aws_iam_role.this", "name"))
		assert.Equal(t, "zeebe-bridge-"+name, b.str("module."+fn+".aws_iam_role_policy.this", "name"))
	}
}

// TestArchitectureDefault: `make build` builds amd64 unless GOARCH_LAMBDA says
// otherwise, so the modules default to x86_64.
func TestArchitectureDefault(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "Makefile"))
	require.NoError(t, err)
	assert.Contains(t, string(mk), "export GOARCH_LAMBDA ?= amd64")
	assert.Equal(t, `["x86_64"]`, mustJSON(t, zeebeLambda(t, nil).attr("module.lambda.aws_lambda_function.this", "architectures")))
	b := bridge(t, nil)
	for _, fn := range []string{"module.poller.aws_lambda_function.this", "module.fulfiller.aws_lambda_function.this", "module.returner.aws_lambda_function.this"} {
		assert.Equal(t, `["x86_64"]`, mustJSON(t, b.attr(fn, "architectures")), fn)
	}
}

func TestZeebeLambdaRoleIsLeastPrivilege(t *testing.T) {
	m := zeebeLambda(t, nil)
	got := policyStatements(t, m, "module.lambda.aws_iam_role_policy.this")
	want := map[string]statement{
		"Logs": {Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{ref("module.lambda.aws_cloudwatch_log_group.this[*].arn") + ":*"}},
		"ReceiveJobs": {Sid: "ReceiveJobs", Effect: "Allow",
			Action:   []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
			Resource: []string{ref("aws_sqs_queue.this.arn")}},
		"DeadLetterJobs": {Sid: "DeadLetterJobs", Effect: "Allow", Action: []string{"sqs:GetQueueUrl", "sqs:SendMessage"},
			Resource: []string{ref("aws_sqs_queue.dlq.arn")}},
		"PublishOutcomes": {Sid: "PublishOutcomes", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{outcomesTopic}},
	}
	assert.Equal(t, want, got)
	assert.Equal(t, "/aws/lambda/book-hotel", m.str("module.lambda.aws_cloudwatch_log_group.this", "name"))

	var trust struct {
		Statement []struct{ Principal map[string]string }
	}
	m.jsonDoc("module.lambda.aws_iam_role.this", "assume_role_policy", &trust)
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, map[string]string{"Service": "lambda.amazonaws.com"}, trust.Statement[0].Principal)
}

func TestZeebeLambdaDLQAlarm(t *testing.T) {
	m := zeebeLambda(t, map[string]cty.Value{"alarm_actions": cty.ListVal([]cty.Value{cty.StringVal("arn:aws:sns:eu-west-1:123456789012:oncall")})})
	alarm := m.resource("aws_cloudwatch_metric_alarm.dlq")
	metrics := map[string]string{}
	var expression string
	for _, q := range alarm.Body.Blocks {
		require.Equal(t, "metric_query", q.Type)
		id := m.eval(q.Body.Attributes["id"].Expr).AsString()
		if e, ok := q.Body.Attributes["expression"]; ok {
			expression = m.eval(e.Expr).AsString()
			continue
		}
		require.Len(t, q.Body.Blocks, 1, "metric_query %s has one metric", id)
		metric := q.Body.Blocks[0].Body.Attributes
		assert.Equal(t, `{"QueueName":"${aws_sqs_queue.dlq.name}"}`, mustJSON(t, m.eval(metric["dimensions"].Expr)), id)
		assert.Equal(t, "Minimum", m.eval(metric["stat"].Expr).AsString(), "%s: only what stayed through the period", id)
		metrics[id] = m.eval(metric["metric_name"].Expr).AsString()
	}
	assert.Equal(t, map[string]string{"visible": "ApproximateNumberOfMessagesVisible", "inflight": "ApproximateNumberOfMessagesNotVisible"}, metrics,
		"a record the returner holds is in flight, not visible: both count")
	assert.Equal(t, "visible + inflight", expression)
	assert.Equal(t, int64(0), m.num("aws_cloudwatch_metric_alarm.dlq", "threshold"))
	assert.Equal(t, `["arn:aws:sns:eu-west-1:123456789012:oncall"]`, mustJSON(t, m.attr("aws_cloudwatch_metric_alarm.dlq", "alarm_actions")))
}

// TestZeebeLambdaReturner: given the bridge's returner, the module lets it
// read this function's DLQ, and no other queue, and triggers it from there.
func TestZeebeLambdaReturner(t *testing.T) {
	returner := cty.ObjectVal(map[string]cty.Value{
		"function_arn": cty.StringVal("arn:aws:lambda:eu-west-1:123456789012:function:zeebe-returner"),
		"role_name":    cty.StringVal("zeebe-returner"),
		"timeout":      cty.NumberIntVal(20),
	})
	m := zeebeLambda(t, map[string]cty.Value{"returner": returner})
	// The bridge grants its returner every DLQ at once (TestReturnerReadsEveryDLQOfItsBridge).
	assert.NotContains(t, m.resources, "aws_iam_role_policy.returner", "nothing per function on the returner's role")
	assert.Equal(t, ref("aws_sqs_queue.dlq.arn"), m.str("aws_lambda_event_source_mapping.returner", "event_source_arn"))
	assert.Equal(t, "arn:aws:lambda:eu-west-1:123456789012:function:zeebe-returner", m.str("aws_lambda_event_source_mapping.returner", "function_name"))
	assert.Equal(t, `["ReportBatchItemFailures"]`, mustJSON(t, m.attr("aws_lambda_event_source_mapping.returner", "function_response_types")))
	assert.Equal(t, int64(120), m.num("aws_sqs_queue.dlq", "visibility_timeout_seconds"), "6 x the returner's timeout")
	assert.Equal(t, int64(30), zeebeLambda(t, nil).num("aws_sqs_queue.dlq", "visibility_timeout_seconds"), "SQS's default without a returner")
	without := zeebeLambda(t, nil)
	for _, r := range []string{"aws_lambda_event_source_mapping.returner"} {
		assert.True(t, m.eval(m.resource(r).Body.Attributes["count"].Expr).Equals(cty.NumberIntVal(1)).True(), "%s with a returner", r)
		assert.True(t, without.eval(without.resource(r).Body.Attributes["count"].Expr).Equals(cty.NumberIntVal(0)).True(), "%s without one", r)
	}

	b := bridge(t, nil)
	assert.Equal(t, int64(20), b.num("module.returner.aws_lambda_function.this", "timeout"))
	env := b.attr("module.returner.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, "1s", env["RETURN_BACKOFF"].AsString())
	assert.Equal(t, "3", env["MAX_RETURNS"].AsBigFloat().String(), "three hand-backs, then each dead-letter costs a retry")
	assert.Equal(t, ref("aws_sns_topic.outcomes.arn"), env["ZEEBE_FULFILLER_SNS_ARN"].AsString())
	assert.NotContains(t, env, "ZEEBE_ADDRESS", "the returner answers through the fulfiller: no Zeebe access")
	assert.NotContains(t, env, "JOB_TOKEN_SECRET_ARN", "and no keyring")
	ok, msgs := b.validation("return_backoff", cty.StringVal("soon"))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "Go duration")
	ok, _ = b.validation("return_backoff", cty.StringVal("500ms"))
	assert.True(t, ok)
}

func TestVariableValidation(t *testing.T) {
	m := zeebeLambda(t, nil)
	tests := []struct {
		variable string
		value    cty.Value
		ok       bool
		says     string
	}{
		{"timeout", cty.NumberIntVal(900), true, ""},
		{"timeout", cty.NumberIntVal(901), false, "900 seconds"},
		{"timeout", cty.NumberIntVal(0), false, "between 1 and 900"},
		{"timeout", cty.NumberFloatVal(1.5), false, "whole number"},
		{"batch_size", cty.NumberIntVal(11), false, "between 1 and 10"},
		{"memory_size", cty.NumberIntVal(64), false, "128"},
		{"maximum_concurrency", cty.NumberIntVal(1), false, "between 2 and 1000"},
		{"maximum_concurrency", cty.NumberIntVal(2), true, ""},
	}
	for _, tt := range tests {
		ok, msgs := m.validation(tt.variable, tt.value)
		assert.Equal(t, tt.ok, ok, "%s = %s", tt.variable, tt.value.GoString())
		if !tt.ok {
			require.NotEmpty(t, msgs)
			assert.Contains(t, strings.Join(msgs, " "), tt.says)
		}
	}
	b := bridge(t, nil)
	ok, msgs := b.validation("poller_timeout", cty.NumberIntVal(1000))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "900")
}

func bridge(t *testing.T, extra map[string]cty.Value) *module {
	vars := map[string]cty.Value{
		"poller_filename":    cty.StringVal("dist/zeebe-poller.zip"),
		"fulfiller_filename": cty.StringVal("dist/zeebe-fulfiller.zip"),
		"returner_filename":  cty.StringVal("dist/zeebe-returner.zip"),
		"zeebe_address":      cty.StringVal("cluster.bru-2.zeebe.camunda.io:443"),
	}
	for k, v := range extra {
		vars[k] = v
	}
	return loadModule(t, "modules/bridge", vars)
}

func TestBridgeTopicsQueuesAndSchedule(t *testing.T) {
	m := bridge(t, nil)
	assert.Equal(t, "zeebe_jobs", m.str("aws_sns_topic.jobs", "name"))
	assert.Equal(t, "zeebe_jobs2complete", m.str("aws_sns_topic.outcomes", "name"))
	for _, topic := range []string{"aws_sns_topic.jobs", "aws_sns_topic.outcomes"} {
		assert.Equal(t, "alias/aws/sns", m.str(topic, "kms_master_key_id"), "%s is encrypted", topic)
	}
	var redrive struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}
	m.jsonDoc("aws_sqs_queue_redrive_policy.outcomes", "redrive_policy", &redrive)
	assert.Equal(t, ref("aws_sqs_queue.outcomes.id"), m.str("aws_sqs_queue_redrive_policy.outcomes", "queue_url"))
	assert.Equal(t, 10, redrive.MaxReceiveCount, "the fulfiller may retry an outcome while Zeebe is unavailable: ten receives with its backoff outlast a minute")
	assert.Equal(t, ref("aws_sqs_queue.outcomes_dlq.arn"), redrive.DeadLetterTargetArn)
	for _, q := range []string{"aws_sqs_queue.outcomes", "aws_sqs_queue.outcomes_dlq"} {
		assert.True(t, m.attr(q, "sqs_managed_sse_enabled").True(), "%s is encrypted", q)
	}
	assert.Equal(t, "rate(14 minutes)", m.str("aws_cloudwatch_event_rule.poller", "schedule_expression"))
	assert.Equal(t, int64(900), m.num("module.poller.aws_lambda_function.this", "timeout"))
	assert.Equal(t, ref("module.poller.aws_lambda_function.this[*].arn"), m.str("aws_cloudwatch_event_target.poller", "arn"))
	assert.Equal(t, "events.amazonaws.com", m.str("aws_lambda_permission.poller", "principal"))
	assert.Equal(t, `["ReportBatchItemFailures"]`, mustJSON(t, m.attr("aws_lambda_event_source_mapping.fulfiller", "function_response_types")))
	assert.Equal(t, `{"QueueName":"${aws_sqs_queue.outcomes_dlq.name}"}`, mustJSON(t, m.attr("aws_cloudwatch_metric_alarm.outcomes_dlq", "dimensions")))

	env := m.attr("module.poller.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, ref("aws_sns_topic.jobs.arn"), env["ZEEBE_JOBS_TOPIC_ARN"].AsString())
	assert.Equal(t, "cluster.bru-2.zeebe.camunda.io:443", env["ZEEBE_ADDRESS"].AsString())
	assert.NotContains(t, env, "ZEEBE_CLIENT_SECRET_ARN", "no secret configured")
	assert.NotContains(t, env, "ZEEBE_INSECURE_CONNECTION")
}

// sqsARN is the start of a queue's ARN in the account, as the HCL tests
// render it.
const sqsARN = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"

func TestBridgeRolesAreLeastPrivilege(t *testing.T) {
	secret := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:zeebe-AbCdEf"
	for _, withSecret := range []bool{false, true} {
		extra := map[string]cty.Value{}
		if withSecret {
			extra["zeebe_client_id"] = cty.StringVal("bridge")
			extra["zeebe_client_secret_arn"] = cty.StringVal(secret)
		}
		m := bridge(t, extra)
		secretStmt := statement{Sid: "ZeebeClientSecret", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{secret}}

		poller := map[string]statement{
			"Logs":        {Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{ref("module.poller.aws_cloudwatch_log_group.this[*].arn") + ":*"}},
			"PublishJobs": {Sid: "PublishJobs", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{ref("aws_sns_topic.jobs.arn")}},
			"ReadRoutes": {Sid: "ReadRoutes", Effect: "Allow", Action: []string{"sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"},
				Resource: []string{ref("aws_sns_topic.jobs.arn"), ref("aws_sns_topic.jobs.arn") + ":*"}},
		}
		fulfiller := map[string]statement{
			"Logs": {Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{ref("module.fulfiller.aws_cloudwatch_log_group.this[*].arn") + ":*"}},
			"ReceiveOutcomes": {Sid: "ReceiveOutcomes", Effect: "Allow",
				Action:   []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
				Resource: []string{ref("aws_sqs_queue.outcomes.arn")}},
			"DeadLetterOutcomes": {Sid: "DeadLetterOutcomes", Effect: "Allow", Action: []string{"sqs:GetQueueUrl", "sqs:SendMessage"},
				Resource: []string{ref("aws_sqs_queue.outcomes_dlq.arn")}},
		}
		keyring := statement{Sid: "JobTokenKeyring", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"},
			Resource: []string{ref("aws_secretsmanager_secret.job_token.arn")}}
		poller["JobTokenKeyring"], fulfiller["JobTokenKeyring"] = keyring, keyring
		// The payload bucket: each its own prefix and direction.
		bucket := ref("aws_s3_bucket.payloads.arn")
		poller["OffloadJobs"] = statement{Sid: "OffloadJobs", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{bucket + "/jobs/*"}}
		fulfiller["ReadOffloadedOutcomes"] = statement{Sid: "ReadOffloadedOutcomes", Effect: "Allow", Action: []string{"s3:DeleteObject", "s3:GetObject"},
			Resource: []string{bucket + "/outcomes/*"}}
		fulfiller["Leases"] = statement{Sid: "Leases", Effect: "Allow", Action: []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"},
			Resource: []string{bucket + "/leases/*"}}
		// The activation guard: the poller records, the fulfiller and the returner claim.
		poller["RecordActivations"] = statement{Sid: "RecordActivations", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{bucket + "/activations/*"}}
		claims := statement{Sid: "ClaimActivations", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject"}, Resource: []string{bucket + "/claims/*"}}
		readActivations := statement{Sid: "ReadActivations", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{bucket + "/activations/*"}}
		fulfiller["ClaimActivations"], fulfiller["ReadActivations"] = claims, readActivations
		returner := map[string]statement{
			"Logs":              {Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{ref("module.returner.aws_cloudwatch_log_group.this[*].arn") + ":*"}},
			"PublishOutcomes":   {Sid: "PublishOutcomes", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{ref("aws_sns_topic.outcomes.arn")}},
			"ReadOffloadedJobs": {Sid: "ReadOffloadedJobs", Effect: "Allow", Action: []string{"s3:DeleteObject", "s3:GetObject"}, Resource: []string{bucket + "/jobs/*"}},
			"ClaimActivations":  claims,
			"ReadActivations":   readActivations,
			"CountReturns":      {Sid: "CountReturns", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject"}, Resource: []string{bucket + "/returns/*"}},
			// Every function's DLQ of the bridge, whatever their number.
			"ReturnDeadLetteredJobs": {Sid: "ReturnDeadLetteredJobs", Effect: "Allow",
				Action:   []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
				Resource: []string{sqsARN + ":zeebe_*_dlq"}},
		}
		assert.Equal(t, returner, policyStatements(t, m, "module.returner.aws_iam_role_policy.this"), "returner, secret=%v: no keyring, no Zeebe secret", withSecret)
		for _, fn := range []string{"poller", "fulfiller"} {
			env := m.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
			assert.Equal(t, ref("aws_secretsmanager_secret.job_token.arn"), env["JOB_TOKEN_SECRET_ARN"].AsString(), fn)
		}
		if withSecret {
			poller["ZeebeClientSecret"] = secretStmt
			fulfiller["ZeebeClientSecret"] = secretStmt
			env := m.attr("module.fulfiller.aws_lambda_function.this", "environment.variables").AsValueMap()
			assert.Equal(t, secret, env["ZEEBE_CLIENT_SECRET_ARN"].AsString())
			assert.Equal(t, "bridge", env["ZEEBE_CLIENT_ID"].AsString())
		}
		assert.Equal(t, poller, policyStatements(t, m, "module.poller.aws_iam_role_policy.this"), "poller, secret=%v", withSecret)
		assert.Equal(t, fulfiller, policyStatements(t, m, "module.fulfiller.aws_iam_role_policy.this"), "fulfiller, secret=%v", withSecret)
	}
}

// TestPayloadBucket: encrypted, private, with a lifecycle rule; a function
// given it reaches only its own prefixes.
func TestPayloadBucket(t *testing.T) {
	b := bridge(t, nil)
	assert.Equal(t, "AES256", b.str("aws_s3_bucket_server_side_encryption_configuration.payloads", "rule.apply_server_side_encryption_by_default.sse_algorithm"))
	for _, a := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		assert.True(t, b.attr("aws_s3_bucket_public_access_block.payloads", a).True(), a)
	}
	lc := b.resource("aws_s3_bucket_lifecycle_configuration.payloads").Body.Blocks
	require.Len(t, lc, 1)
	assert.Equal(t, "rule", lc[0].Labels[0], "one rule per prefix")
	assert.Equal(t, `["jobs","outcomes","leases","claims","activations","returns"]`, mustJSON(t, b.eval(lc[0].Body.Attributes["for_each"].Expr)))
	content := lc[0].Body.Blocks[0].Body
	for _, blk := range content.Blocks {
		if blk.Type == "expiration" {
			assert.Equal(t, "2", b.eval(blk.Body.Attributes["days"].Expr).AsBigFloat().String())
		}
	}
	for _, fn := range []string{"poller", "fulfiller", "returner"} {
		env := b.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
		assert.Equal(t, ref("aws_s3_bucket.payloads.id"), env["PAYLOAD_BUCKET"].AsString(), fn)
		assert.Equal(t, ref("aws_s3_bucket.payloads.id"), env["ACTIVATION_BUCKET"].AsString(), fn)
	}
	ok, msgs := b.validation("payload_threshold", cty.NumberIntVal(300000))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "262144")

	payloads := cty.ObjectVal(map[string]cty.Value{
		"bucket_name": cty.StringVal("zeebe-bridge-payloads"),
		"bucket_arn":  cty.StringVal("arn:aws:s3:::zeebe-bridge-payloads"),
		"threshold":   cty.NumberIntVal(204800),
	})
	m := zeebeLambda(t, map[string]cty.Value{"payloads": payloads})
	got := policyStatements(t, m, "module.lambda.aws_iam_role_policy.this")
	assert.Equal(t, statement{Sid: "ReadOffloadedJobs", Effect: "Allow", Action: []string{"s3:DeleteObject", "s3:GetObject"},
		Resource: []string{"arn:aws:s3:::zeebe-bridge-payloads/jobs/book-hotel/*"}}, got["ReadOffloadedJobs"])
	assert.Equal(t, statement{Sid: "OffloadOutcomes", Effect: "Allow", Action: []string{"s3:PutObject"},
		Resource: []string{"arn:aws:s3:::zeebe-bridge-payloads/outcomes/book-hotel/*"}}, got["OffloadOutcomes"])
	env := m.attr("module.lambda.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, "zeebe-bridge-payloads", env["PAYLOAD_BUCKET"].AsString())
	assert.Equal(t, "204800", env["PAYLOAD_THRESHOLD"].AsString())
	assert.NotContains(t, policyStatements(t, zeebeLambda(t, nil), "module.lambda.aws_iam_role_policy.this"), "ReadOffloadedJobs", "no bucket, no grant")
}

// TestPollerRunsOverlap: each scheduled poller run lasts its timeout less the
// safety margin. If that is shorter than the schedule's period, a job that
// becomes activatable in the gap (a retry, a job handed back from a DLQ)
// waits for the next run; a fresh-clone make test once failed that way.
func TestPollerRunsOverlap(t *testing.T) {
	defaults := bridge(t, nil)
	local := moduleArgs(t, filepath.Join("..", "localstack", "terraform", "main.tf"), "bridge")
	for _, tc := range []struct {
		name                      string
		schedule, timeout, margin cty.Value
	}{
		{"the bridge module's defaults", defaults.vars["poller_schedule"], defaults.vars["poller_timeout"], defaults.vars["poller_safety_margin"]},
		{"the local root module", local["poller_schedule"], local["poller_timeout"], local["poller_safety_margin"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			period := ratePeriod(t, tc.schedule.AsString())
			timeout, _ := tc.timeout.AsBigFloat().Int64()
			margin, err := time.ParseDuration(tc.margin.AsString())
			require.NoError(t, err)
			run := time.Duration(timeout)*time.Second - margin
			assert.Greater(t, run, period, "a run lasts %s (timeout %ds less margin %s), the schedule starts one every %s", run, timeout, margin, period)
		})
	}
}

// ratePeriod parses an EventBridge rate expression such as rate(14 minutes).
func ratePeriod(t *testing.T, expr string) time.Duration {
	t.Helper()
	m := regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours)\)$`).FindStringSubmatch(expr)
	require.NotNil(t, m, "not a rate expression in minutes or hours: %s", expr)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	if strings.HasPrefix(m[2], "hour") {
		return time.Duration(n) * time.Hour
	}
	return time.Duration(n) * time.Minute
}

// moduleArgs returns the literal arguments of a module block in a .tf file.
func moduleArgs(t *testing.T, file, name string) map[string]cty.Value {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "module" || b.Labels[0] != name {
			continue
		}
		args := map[string]cty.Value{}
		for k, a := range b.Body.Attributes {
			if v, diags := a.Expr.Value(nil); !diags.HasErrors() {
				args[k] = v
			}
		}
		return args
	}
	require.Failf(t, "no module block", "%s has no module %q", file, name)
	return nil
}

// TestPollerNotRunningAlarm: an alarm when the poller has not started for two
// schedule periods, derived from a rate() schedule; none for cron().
func TestPollerNotRunningAlarm(t *testing.T) {
	const alarm = "aws_cloudwatch_metric_alarm.poller_not_running"
	tests := []struct {
		schedule string
		count    int64
		period   int64
	}{
		{"rate(14 minutes)", 1, 840},
		{"rate(1 minute)", 1, 60},
		{"rate(2 hours)", 1, 7200},
		{"cron(0/15 * * * ? *)", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			m := bridge(t, map[string]cty.Value{"poller_schedule": cty.StringVal(tt.schedule)})
			assert.Equal(t, tt.count, m.num(alarm, "count"))
			if tt.count == 0 {
				return
			}
			assert.Equal(t, tt.period, m.num(alarm, "period"))
			assert.Equal(t, int64(2), m.num(alarm, "evaluation_periods"))
			assert.Equal(t, "Invocations", m.str(alarm, "metric_name"))
			assert.Equal(t, "AWS/Lambda", m.str(alarm, "namespace"))
			assert.Equal(t, "LessThanThreshold", m.str(alarm, "comparison_operator"))
			assert.Equal(t, int64(1), m.num(alarm, "threshold"))
			assert.Equal(t, "breaching", m.str(alarm, "treat_missing_data"), "no data at all is the failure it is for")
			assert.Equal(t, `{"FunctionName":"${module.poller.aws_lambda_function.this[*].function_name}"}`, mustJSON(t, m.attr(alarm, "dimensions")))
		})
	}
}

// TestCallbackFunction: only with its zip; its URL signs with IAM unless
// told otherwise; it may publish outcomes and nothing else.
func TestCallbackFunction(t *testing.T) {
	without := bridge(t, nil)
	with := bridge(t, map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip")})
	for _, r := range []string{"module.callback.aws_lambda_function.this", "aws_lambda_function_url.callback", "module.callback.aws_iam_role.this", "module.callback.aws_iam_role_policy.this", "module.callback.aws_cloudwatch_log_group.this"} {
		assert.Equal(t, int64(0), without.instances(r), "%s without callback_filename", r)
		assert.Equal(t, int64(1), with.instances(r), "%s with callback_filename", r)
	}
	assert.Equal(t, "AWS_IAM", with.str("aws_lambda_function_url.callback", "authorization_type"))
	assert.Equal(t, ref("module.callback[*].aws_lambda_function.this[*].function_name"), with.str("aws_lambda_function_url.callback", "function_name"))
	env := with.attr("module.callback.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, ref("aws_sns_topic.outcomes.arn"), env["ZEEBE_FULFILLER_SNS_ARN"].AsString())
	assert.NotContains(t, env, "ZEEBE_ADDRESS", "it answers through the fulfiller: no Zeebe access")
	stmts := policyStatements(t, with, "module.callback.aws_iam_role_policy.this")
	assert.Equal(t, statement{Sid: "PublishOutcomes", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{ref("aws_sns_topic.outcomes.arn")}}, stmts["PublishOutcomes"])
	assert.Equal(t, statement{Sid: "OffloadOutcomes", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{ref("aws_s3_bucket.payloads.arn") + "/outcomes/*"}}, stmts["OffloadOutcomes"])
	assert.Equal(t, statement{Sid: "JobTokenKeyring", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{ref("aws_secretsmanager_secret.job_token.arn")}}, stmts["JobTokenKeyring"],
		"it checks a token's signature before it writes or publishes anything")
	assert.Equal(t, ref("aws_secretsmanager_secret.job_token.arn"), env["JOB_TOKEN_SECRET_ARN"].AsString())
	assert.Len(t, stmts, 4, "logs, publishing, offloading large outcomes and reading the keyring, nothing else")
	assert.Equal(t, ref("aws_s3_bucket.payloads.id"), env["PAYLOAD_BUCKET"].AsString())
	ok, msgs := with.validation("callback_authorization_type", cty.StringVal("PUBLIC"))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "AWS_IAM or NONE")
	ok, _ = with.validation("callback_authorization_type", cty.StringVal("NONE"))
	assert.True(t, ok)
	fenv := with.attr("module.fulfiller.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, fenv["PAYLOAD_BUCKET"], fenv["LEASE_BUCKET"], "the fulfiller keeps its leases in the bridge's bucket")
}

// TestOTelEnvironment: the OTEL_ variables reach every bridge function, and
// nothing else passes as one.
func TestOTelEnvironment(t *testing.T) {
	m := bridge(t, map[string]cty.Value{
		"callback_filename": cty.StringVal("dist/zeebe-callback.zip"),
		"otel_environment":  cty.MapVal(map[string]cty.Value{"OTEL_EXPORTER_OTLP_ENDPOINT": cty.StringVal("http://collector:4318")}),
	})
	for _, fn := range []string{"poller", "fulfiller", "returner", "callback"} {
		env := m.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
		require.Contains(t, env, "OTEL_EXPORTER_OTLP_ENDPOINT", fn)
		assert.Equal(t, "http://collector:4318", env["OTEL_EXPORTER_OTLP_ENDPOINT"].AsString(), fn)
	}
	ok, msgs := m.validation("otel_environment", cty.MapVal(map[string]cty.Value{"ZEEBE_ADDRESS": cty.StringVal("elsewhere:26500")}))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "OTEL_ variables only")
}

// TestXRayTracing: off by default; on, every function the modules create
// traces actively and its role may send segments, and nothing more.
func TestXRayTracing(t *testing.T) {
	xray := statement{Sid: "XRay", Effect: "Allow", Action: []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}, Resource: []string{"*"}}
	tracingModes := func(m *module, addr string) []string {
		m, addr = m.resolve(addr)
		var modes []string
		for _, b := range m.resource(addr).Body.Blocks {
			if b.Type == "dynamic" && b.Labels[0] == "tracing_config" {
				for _, v := range m.eval(b.Body.Attributes["for_each"].Expr).AsValueSlice() {
					modes = append(modes, v.AsString())
				}
			}
		}
		return modes
	}
	on := map[string]cty.Value{"xray_tracing": cty.True, "callback_filename": cty.StringVal("dist/zeebe-callback.zip")}
	off := map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip")}
	for _, fn := range []string{"poller", "fulfiller", "returner", "callback"} {
		assert.Equal(t, []string{"Active"}, tracingModes(bridge(t, on), "module."+fn+".aws_lambda_function.this"), fn)
		assert.Empty(t, tracingModes(bridge(t, off), "module."+fn+".aws_lambda_function.this"), fn)
		assert.Equal(t, xray, policyStatements(t, bridge(t, on), "module."+fn+".aws_iam_role_policy.this")["XRay"], fn)
		assert.NotContains(t, policyStatements(t, bridge(t, off), "module."+fn+".aws_iam_role_policy.this"), "XRay", fn)
	}
	assert.Equal(t, []string{"Active"}, tracingModes(zeebeLambda(t, map[string]cty.Value{"xray_tracing": cty.True}), "module.lambda.aws_lambda_function.this"))
	assert.Empty(t, tracingModes(zeebeLambda(t, nil), "module.lambda.aws_lambda_function.this"))
	assert.Equal(t, xray, policyStatements(t, zeebeLambda(t, map[string]cty.Value{"xray_tracing": cty.True}), "module.lambda.aws_iam_role_policy.this")["XRay"])
	assert.NotContains(t, policyStatements(t, zeebeLambda(t, nil), "module.lambda.aws_iam_role_policy.this"), "XRay")
}

// TestPollerIsNotRetriedByLambda: EventBridge invokes the poller
// asynchronously; Lambda must not run a failed run again beside the
// scheduled ones.
func TestPollerIsNotRetriedByLambda(t *testing.T) {
	b := bridge(t, nil)
	assert.Equal(t, int64(0), b.num("aws_lambda_function_event_invoke_config.poller", "maximum_retry_attempts"))
	assert.Equal(t, int64(60), b.num("aws_lambda_function_event_invoke_config.poller", "maximum_event_age_in_seconds"))
	assert.Equal(t, ref("module.poller.aws_lambda_function.this[*].function_name"), b.str("aws_lambda_function_event_invoke_config.poller", "function_name"))
}

// TestJobTimeoutSeconds: the bridge's job_timeout in seconds, for
// zeebe-lambda's check; null where it is not written in h, m and s.
func TestJobTimeoutSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want cty.Value
	}{
		{"5m", cty.NumberIntVal(300)},
		{"2m", cty.NumberIntVal(120)},
		{"90s", cty.NumberIntVal(90)},
		{"1h30m", cty.NumberIntVal(5400)},
		{"1h2m3s", cty.NumberIntVal(3723)},
		{"1.5h", cty.NullVal(cty.Number)},
		{"300ms", cty.NullVal(cty.Number)},
	} {
		b := bridge(t, map[string]cty.Value{"job_timeout": cty.StringVal(tt.in)})
		got := b.eval(b.outputs["job_timeout_seconds"])
		if tt.want.IsNull() {
			assert.True(t, got.IsNull(), "%s: %#v", tt.in, got)
			continue
		}
		require.False(t, got.IsNull(), tt.in)
		assert.True(t, tt.want.Equals(got).True(), "%s: got %s", tt.in, got.AsBigFloat())
	}
}

// TestFunctionTimeoutWithinTheJobTimeout: zeebe-lambda refuses at plan time
// a function timeout longer than the job timeout it is given.
func TestFunctionTimeoutWithinTheJobTimeout(t *testing.T) {
	for _, tt := range []struct {
		timeout, jobTimeout cty.Value
		ok                  bool
	}{
		{cty.NumberIntVal(60), cty.NumberIntVal(300), true},
		{cty.NumberIntVal(300), cty.NumberIntVal(300), true},
		{cty.NumberIntVal(900), cty.NumberIntVal(300), false},
		{cty.NumberIntVal(900), cty.NullVal(cty.Number), true},
	} {
		m := zeebeLambda(t, map[string]cty.Value{"timeout": tt.timeout, "job_timeout_seconds": tt.jobTimeout})
		ok, msgs := m.preconditions("aws_lambda_event_source_mapping.this")
		assert.Equal(t, tt.ok, ok, "timeout %s, job timeout %#v", tt.timeout.AsBigFloat(), tt.jobTimeout)
		if !tt.ok {
			assert.Contains(t, strings.Join(msgs, " "), "is longer than the job timeout (300 s)")
		}
	}
	m := zeebeLambda(t, nil)
	ok, _ := m.validation("job_timeout_seconds", cty.NumberIntVal(0))
	assert.False(t, ok)
}

// TestSaaSVariables: scope and tenants reach the poller and the fulfiller
// only when set.
func TestSaaSVariables(t *testing.T) {
	without := bridge(t, nil)
	with := bridge(t, map[string]cty.Value{"zeebe_token_scope": cty.StringVal("Zeebe"), "zeebe_tenant_ids": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})})
	for _, fn := range []string{"poller", "fulfiller"} {
		env := without.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
		assert.NotContains(t, env, "ZEEBE_TOKEN_SCOPE", fn)
		assert.NotContains(t, env, "ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS", fn)
		env = with.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
		assert.Equal(t, "Zeebe", env["ZEEBE_TOKEN_SCOPE"].AsString(), fn)
		assert.Equal(t, "a,b", env["ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS"].AsString(), fn)
	}
	ok, _ := with.validation("zeebe_tenant_ids", cty.ListVal([]cty.Value{cty.StringVal("has space")}))
	assert.False(t, ok)
	ok, _ = with.validation("zeebe_tenant_ids", cty.ListVal([]cty.Value{cty.StringVal("<default>"), cty.StringVal("tenant-a")}))
	assert.True(t, ok)
}

// TestZeebeLambdaOtherRuntimesRunBehindTheLayer: a function whose runtime is
// not provided.* gets the bridge's layer, the wrapper variable and one job
// per invocation; a Go function none of them; and another runtime without
// the layer is refused at plan time.
func TestZeebeLambdaOtherRuntimesRunBehindTheLayer(t *testing.T) {
	const layer = "arn:aws:lambda:us-east-1:000000000000:layer:zeebe-runtime-proxy:1"
	py := zeebeLambda(t, map[string]cty.Value{"runtime": cty.StringVal("python3.12"), "handler": cty.StringVal("app.handler"),
		"runtime_proxy_layer_arn": cty.StringVal(layer)})
	layers := py.attr("module.lambda.aws_lambda_function.this", "layers")
	require.True(t, layers.LengthInt() == 1, layers.GoString())
	assert.Equal(t, layer, layers.Index(cty.NumberIntVal(0)).AsString())
	env := py.attr("module.lambda.aws_lambda_function.this", "environment.variables").AsValueMap()
	assert.Equal(t, "/opt/zeebe-runtime-proxy", env["AWS_LAMBDA_EXEC_WRAPPER"].AsString())
	assert.Equal(t, int64(1), py.num("aws_lambda_event_source_mapping.this", "batch_size"))
	ok, _ := py.preconditions("aws_lambda_event_source_mapping.this")
	assert.True(t, ok)

	goFn := zeebeLambda(t, map[string]cty.Value{"runtime_proxy_layer_arn": cty.StringVal(layer)})
	assert.True(t, goFn.attr("module.lambda.aws_lambda_function.this", "layers").IsNull(), "a Go function gets no layer")
	assert.NotContains(t, goFn.attr("module.lambda.aws_lambda_function.this", "environment.variables").AsValueMap(), "AWS_LAMBDA_EXEC_WRAPPER")
	assert.Equal(t, int64(10), goFn.num("aws_lambda_event_source_mapping.this", "batch_size"))

	noLayer := zeebeLambda(t, map[string]cty.Value{"runtime": cty.StringVal("nodejs20.x"), "handler": cty.StringVal("index.handler")})
	ok, msgs := noLayer.preconditions("aws_lambda_event_source_mapping.this")
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "runtime nodejs20.x is not Go: set runtime_proxy_layer_arn")
}

// TestBridgeMemorySizes: each bridge function's memory is its own variable,
// 128 MB by default (what the fulfiller's ten-record batch of 4 MiB
// outcomes is sized for, docs/design.md "Trust and size"), within Lambda's
// 128..10240 MB.
func TestBridgeMemorySizes(t *testing.T) {
	callback := map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip")}
	defaults := bridge(t, callback)
	for _, fn := range []string{"fulfiller", "poller", "returner", "callback"} {
		assert.Equal(t, int64(128), defaults.num("module."+fn+".aws_lambda_function.this", "memory_size"), fn)
	}
	for _, tt := range []struct {
		variable string
		value    cty.Value
		ok       bool
	}{
		{"fulfiller_memory_size", cty.NumberIntVal(128), true},
		{"fulfiller_memory_size", cty.NumberIntVal(10240), true},
		{"fulfiller_memory_size", cty.NumberIntVal(127), false},
		{"fulfiller_memory_size", cty.NumberIntVal(10241), false},
		{"fulfiller_memory_size", cty.NumberFloatVal(256.5), false},
		{"poller_memory_size", cty.NumberIntVal(64), false},
		{"poller_memory_size", cty.NumberIntVal(512), true},
		{"returner_memory_size", cty.NumberIntVal(20480), false},
		{"returner_memory_size", cty.NumberIntVal(256), true},
		{"callback_memory_size", cty.NumberIntVal(0), false},
		{"callback_memory_size", cty.NumberIntVal(1024), true},
	} {
		t.Run(tt.variable+"="+tt.value.AsBigFloat().String(), func(t *testing.T) {
			ok, msgs := defaults.validation(tt.variable, tt.value)
			assert.Equal(t, tt.ok, ok)
			if !tt.ok {
				assert.Contains(t, strings.Join(msgs, " "), "between 128 and 10240 MB")
				return
			}
			extra := map[string]cty.Value{"callback_filename": callback["callback_filename"], tt.variable: tt.value}
			fn := strings.TrimSuffix(tt.variable, "_memory_size")
			got := bridge(t, extra).num("module."+fn+".aws_lambda_function.this", "memory_size")
			want, _ := tt.value.AsBigFloat().Int64()
			assert.Equal(t, want, got)
		})
	}
}

// TestMaxTokenLifetime: the bound rotate-key keeps retired keys for reaches
// the operator output, a week by default, at least Lambda's 15 minutes.
func TestMaxTokenLifetime(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value cty.Value // nil: the default
		ok    bool
		want  int64
	}{
		{"default: a week", cty.NilVal, true, 604800},
		{"a month", cty.NumberIntVal(2592000), true, 2592000},
		{"Lambda's 15 minutes", cty.NumberIntVal(900), true, 900},
		{"shorter than a Lambda run", cty.NumberIntVal(899), false, 0},
		{"a fraction", cty.NumberFloatVal(3600.5), false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var extra map[string]cty.Value
			if tt.value != cty.NilVal {
				extra = map[string]cty.Value{"max_token_lifetime_seconds": tt.value}
				ok, msgs := bridge(t, nil).validation("max_token_lifetime_seconds", tt.value)
				require.Equal(t, tt.ok, ok)
				if !ok {
					assert.Contains(t, strings.Join(msgs, " "), "at least 900")
					return
				}
			}
			b := bridge(t, extra)
			got := b.eval(b.outputs["operator"]).GetAttr("max_token_lifetime_seconds")
			n, _ := got.AsBigFloat().Int64()
			assert.Equal(t, tt.want, n)
		})
	}
}
