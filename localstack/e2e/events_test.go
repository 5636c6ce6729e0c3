//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// businessEventsShareTheJobQueue publishes a business event to the topic
// that echo (Go, lambdakit.WithEvents) and chaos-py (Python, through the
// layer) subscribe their job queues to: each function's event handler
// receives it, and nothing reaches their DLQs. Jobs run on the same queues
// in the scenarios of TestServerless.
func businessEventsShareTheJobQueue(ctx context.Context, t *testing.T, awsCfg aws.Config, stack *tfstack.Stack) {
	require.True(t, strings.HasSuffix(stack.BusinessEventsTopicARN, ":zeebe_test_business_events"), "the root's business events topic: %q", stack.BusinessEventsTopicARN)
	orderID := fmt.Sprintf("order-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"orderId":%q,"status":"shipped"}`, orderID)
	_, err := sns.NewFromConfig(awsCfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(stack.BusinessEventsTopicARN), Message: aws.String(body)})
	require.NoError(t, err)

	// LocalStack's SNS re-serialises a JSON body (spaces after the colons),
	// so the lines are found by the order's id.
	for _, fn := range []string{"echo", "chaos-py"} {
		group := stack.Functions[fn].LogGroupName
		var received int
		var lines []string
		for deadline := time.Now().Add(30 * time.Second); received == 0 && time.Now().Before(deadline); time.Sleep(time.Second) {
			lines, err = logs(ctx, awsCfg, group)
			require.NoError(t, err)
			received = 0
			for _, l := range lines {
				if strings.Contains(l, chaos.EventLine) && strings.Contains(l, orderID) {
					received++
				}
			}
		}
		if !assert.Equal(t, 1, received, "%s's event handler received the business event once", fn) {
			t.Logf("the last lines of %s:\n%s", group, strings.Join(lines[max(len(lines)-20, 0):], "\n"))
		}
	}
	// Received and deleted: nothing waits in the queues or their DLQs.
	q := sqs.NewFromConfig(awsCfg)
	for _, fn := range []string{"echo", "chaos-py"} {
		for _, url := range []string{stack.Functions[fn].QueueURL, stack.Functions[fn].DLQURL} {
			out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			require.NoError(t, err)
			assert.Equal(t, "0", out.Attributes["ApproximateNumberOfMessages"], url)
			assert.Equal(t, "0", out.Attributes["ApproximateNumberOfMessagesNotVisible"], url)
		}
	}
}
