package terraform_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/zclconf/go-cty/cty"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
)

// TestParityWithLocalStackProvisioning checks that the Terraform modules and
// the LocalStack provisioning and deployment (which read package topology)
// agree on names and on every queue, subscription and trigger setting, for
// every example function, so the two cannot drift apart.
func TestParityWithLocalStackProvisioning(t *testing.T) {
	for _, fn := range catalog.All() {
		m := zeebeLambda(t, map[string]cty.Value{
			"function_name": cty.StringVal(fn.Name),
			"timeout":       cty.NumberIntVal(int64(fn.Timeout.Seconds())),
		})
		assert.Equal(t, topology.FunctionQueue(fn.Name), m.str("aws_sqs_queue.this", "name"), fn.Name)
		assert.Equal(t, topology.FunctionDLQ(fn.Name), m.str("aws_sqs_queue.dlq", "name"), fn.Name)
		assert.Equal(t, int64(topology.VisibilityTimeout(fn.Timeout).Seconds()), m.num("aws_sqs_queue.this", "visibility_timeout_seconds"), fn.Name)
		assert.Equal(t, int64(topology.MessageRetention.Seconds()), m.num("aws_sqs_queue.this", "message_retention_seconds"), fn.Name)
		assert.Equal(t, int64(topology.DLQRetention.Seconds()), m.num("aws_sqs_queue.dlq", "message_retention_seconds"), fn.Name)
		assert.JSONEq(t, topology.RedrivePolicy(ref("aws_sqs_queue.dlq.arn"), topology.FunctionMaxReceiveCount), m.str("aws_sqs_queue.this", "redrive_policy"), fn.Name)
		assert.JSONEq(t, topology.FilterPolicy(fn.Name), m.str("aws_sns_topic_subscription.this", "filter_policy"), fn.Name)
		assert.Equal(t, topology.FilterPolicyScope, m.str("aws_sns_topic_subscription.this", "filter_policy_scope"))
		assert.Equal(t, topology.RawMessageDelivery, m.attr("aws_sns_topic_subscription.this", "raw_message_delivery").True())
		assert.JSONEq(t, withoutSid(t, topology.QueuePolicy(ref("aws_sqs_queue.this.arn"), jobsTopic)), withoutSid(t, m.str("aws_sqs_queue_policy.this", "policy")))
		assert.Equal(t, int64(topology.EventSourceBatchSize), m.num("aws_lambda_event_source_mapping.this", "batch_size"))
		assert.Equal(t, `["`+topology.FunctionResponseType+`"]`, mustJSON(t, m.attr("aws_lambda_event_source_mapping.this", "function_response_types")))
	}

	b := bridge(t, nil)
	assert.Equal(t, topology.JobsTopic, b.str("aws_sns_topic.jobs", "name"))
	assert.Equal(t, topology.OutcomesTopic, b.str("aws_sns_topic.outcomes", "name"))
	assert.Equal(t, topology.OutcomesQueue, b.str("aws_sqs_queue.outcomes", "name"))
	assert.Equal(t, topology.OutcomesDLQ, b.str("aws_sqs_queue.outcomes_dlq", "name"))
	assert.Equal(t, int64(topology.OutcomesVisibilityTimeout().Seconds()), b.num("aws_sqs_queue.outcomes", "visibility_timeout_seconds"))
	assert.Equal(t, int64(topology.FulfillerTimeout.Seconds()), b.num("aws_lambda_function.fulfiller", "timeout"))
	assert.Equal(t, int64(topology.MessageRetention.Seconds()), b.num("aws_sqs_queue.outcomes", "message_retention_seconds"))
	assert.Equal(t, int64(topology.DLQRetention.Seconds()), b.num("aws_sqs_queue.outcomes_dlq", "message_retention_seconds"))
	assert.JSONEq(t, topology.RedrivePolicy(ref("aws_sqs_queue.outcomes_dlq.arn"), topology.OutcomesMaxReceiveCount), b.str("aws_sqs_queue.outcomes", "redrive_policy"))
	assert.JSONEq(t, withoutSid(t, topology.QueuePolicy(ref("aws_sqs_queue.outcomes.arn"), ref("aws_sns_topic.outcomes.arn"))), withoutSid(t, b.str("aws_sqs_queue_policy.outcomes", "policy")))
	assert.Equal(t, topology.RawMessageDelivery, b.attr("aws_sns_topic_subscription.outcomes", "raw_message_delivery").True())
	assert.Equal(t, topology.PollerFunction, b.str("aws_lambda_function.poller", "function_name"))
	assert.Equal(t, topology.FulfillerFunction, b.str("aws_lambda_function.fulfiller", "function_name"))
	assert.Equal(t, topology.PollerRule, b.str("aws_cloudwatch_event_rule.poller", "name"))
	assert.Equal(t, int64(topology.EventSourceBatchSize), b.num("aws_lambda_event_source_mapping.fulfiller", "batch_size"))
}
