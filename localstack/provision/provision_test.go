//go:build e2e

package provision_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
)

// TestApplyOnLocalStack provisions twice (it must be idempotent) and reads
// the settings back from LocalStack.
func TestApplyOnLocalStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := provision.LocalConfig(ctx)
	require.NoError(t, err)
	p := provision.New(cfg)
	fns := []provision.Function{{Name: "provision-test-fn", Timeout: 20 * time.Second}}
	_, err = p.Apply(ctx, fns)
	require.NoError(t, err, "is LocalStack running? `localstack/stack up`")
	topo, err := p.Apply(ctx, fns)
	require.NoError(t, err, "a second Apply must converge, not fail")

	r := topo.Functions["provision-test-fn"]
	assert.Equal(t, topology.FunctionQueue("provision-test-fn"), r.Queue.Name)
	attrs := queueAttrs(ctx, t, p.SQS, r.Queue.URL)
	assert.Equal(t, "120", attrs["VisibilityTimeout"], "6 x the 20 s function timeout")
	var redrive struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}
	require.NoError(t, json.Unmarshal([]byte(attrs["RedrivePolicy"]), &redrive))
	assert.Equal(t, 1, redrive.MaxReceiveCount, "SQS must never retry a job")
	assert.Equal(t, r.DLQ.ARN, redrive.DeadLetterTargetArn)
	assert.Contains(t, attrs["Policy"], topo.JobsTopicARN)

	out, err := p.SNS.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(r.SubscriptionARN)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"lambdaIdentifier":["provision-test-fn"]}`, out.Attributes["FilterPolicy"])
	assert.Equal(t, "true", out.Attributes["RawMessageDelivery"])
	assert.Equal(t, topo.JobsTopicARN, out.Attributes["TopicArn"])

	oattrs := queueAttrs(ctx, t, p.SQS, topo.OutcomesQueue.URL)
	require.NoError(t, json.Unmarshal([]byte(oattrs["RedrivePolicy"]), &redrive))
	assert.Equal(t, topology.OutcomesMaxReceiveCount, redrive.MaxReceiveCount)
	assert.Equal(t, topo.OutcomesDLQ.ARN, redrive.DeadLetterTargetArn)
	assert.Equal(t, "180", oattrs["VisibilityTimeout"])
}

func queueAttrs(ctx context.Context, t *testing.T, c *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	require.NoError(t, err)
	return out.Attributes
}
