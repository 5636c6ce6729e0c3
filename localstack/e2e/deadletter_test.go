//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// poisonOutcomesReachTheDLQAtOnce puts records the fulfiller can never
// apply on its queue: each is in the DLQ within seconds, with the reason,
// after one receive (not after maxReceiveCount receives a visibility timeout
// apart), and nothing stays behind.
func poisonOutcomesReachTheDLQAtOnce(ctx context.Context, t *testing.T, awsCfg aws.Config, stack *tfstack.Stack) {
	q := sqs.NewFromConfig(awsCfg)

	nonce := time.Now().UnixNano()
	// Each body carries the nonce and a word of its own, so it is found again
	// in the DLQ (LocalStack's event source mapping hands the function JSON
	// bodies re-serialised, so the copy need not be byte-equal).
	poison := []struct{ body, mark, reason string }{
		{fmt.Sprintf("not json at all %d", nonce), "not json", "not an outcome message"},
		{fmt.Sprintf(`{"v":99,"jobKey":1,"outcome":"complete","n":%d}`, nonce), "complete", "contract version"},
		{fmt.Sprintf(`{"v":1,"jobKey":1,"outcome":"explode","n":%d}`, nonce), "explode", "not an outcome message"},
	}
	sent := time.Now()
	want := map[string]string{}
	var ids []string
	for _, p := range poison {
		out, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(stack.OutcomesQueueURL), MessageBody: aws.String(p.body)})
		require.NoError(t, err)
		want[p.mark] = p.reason
		ids = append(ids, aws.ToString(out.MessageId))
	}
	markOf := func(body string) string {
		if !strings.Contains(body, fmt.Sprint(nonce)) {
			return ""
		}
		for _, p := range poison {
			if strings.Contains(body, p.mark) {
				return p.mark
			}
		}
		return ""
	}

	found := map[string]string{}
	for len(found) < len(want) && time.Since(sent) < 30*time.Second {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(stack.OutcomesDLQURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		for _, m := range out.Messages {
			mark := markOf(aws.ToString(m.Body))
			if mark == "" {
				continue
			}
			if r, ok := m.MessageAttributes[sqsretry.AttrReason]; ok {
				found[mark] = aws.ToString(r.StringValue)
			}
			_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(stack.OutcomesDLQURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
	took := time.Since(sent)
	for mark, reason := range want {
		assert.Contains(t, found[mark], reason, "record %q in the DLQ with its reason", mark)
	}
	assert.Less(t, took, 15*time.Second, "the poison records reached the DLQ after %s", took)
	t.Logf("all %d poison records were in the DLQ after %s", len(want), took.Round(100*time.Millisecond))
	left := depth(ctx, t, awsCfg, stack.OutcomesQueueURL)
	// The event source mapping deletes the handled records. The queue is
	// shared with the tests running beside this one (heartbeats of long
	// work, a batch waiting on the engine the restart test killed), so it
	// is empty at some moment, not at a given one.
	for end := time.Now().Add(30 * time.Second); left > 0 && time.Now().Before(end); left = depth(ctx, t, awsCfg, stack.OutcomesQueueURL) {
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, 0, left, "nothing stays behind in the outcomes queue")
	receivedOnce(ctx, t, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName, "record moved to the DLQ at once", ids...)
}

// receivedOnce checks, from the log lines (whose message ends with msg) a
// consumer wrote when it moved records to the DLQ, that each of them was
// received once, not maxReceiveCount times.
func receivedOnce(ctx context.Context, t *testing.T, awsCfg aws.Config, group, msg string, ids ...string) {
	t.Helper()
	counts := map[string]string{}
	// Other tests' records share the group, so wait for these ids, not for
	// as many lines as there are ids.
	missing := func() bool {
		for _, id := range ids {
			if _, ok := counts[id]; !ok {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(30 * time.Second); missing() && time.Now().Before(deadline); time.Sleep(time.Second) {
		lines, err := logs(ctx, awsCfg, group)
		require.NoError(t, err)
		for _, l := range lines {
			var e struct {
				Msg          string `json:"msg"`
				MessageID    string `json:"messageId"`
				ReceiveCount string `json:"receiveCount"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && strings.HasSuffix(e.Msg, msg) {
				counts[e.MessageID] = e.ReceiveCount
			}
		}
	}
	for _, id := range ids {
		assert.Equal(t, "1", counts[id], "record %s went to the DLQ after its first receive", id)
	}
}

// poisonJobsReachTheFunctionDLQAtOnce puts a record that is not a job message
// on a function's queue: lambdakit moves it to the function's DLQ at once,
// with the reason, instead of leaving it to wait out the visibility timeout.
// The returner, which holds such a record for 12 hours once it reads it, is
// off for that DLQ meanwhile: with long-polling mappings it would read the
// record before the test does.
func poisonJobsReachTheFunctionDLQAtOnce(ctx context.Context, t *testing.T, awsCfg aws.Config, returner string, fn tfstack.Function) {
	returnerOff(ctx, t, awsCfg, returner, fn.DLQURL)
	q := sqs.NewFromConfig(awsCfg)
	body := fmt.Sprintf("not a job message %d", time.Now().UnixNano())
	sent := time.Now()
	out, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(fn.QueueURL), MessageBody: aws.String(body)})
	require.NoError(t, err)
	var reason string
	for reason == "" && time.Since(sent) < 30*time.Second {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(fn.DLQURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		for _, m := range out.Messages {
			if aws.ToString(m.Body) != body {
				continue
			}
			if r, ok := m.MessageAttributes[sqsretry.AttrReason]; ok {
				reason = aws.ToString(r.StringValue)
			}
			_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(fn.DLQURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
	took := time.Since(sent)
	assert.Contains(t, reason, "not a job message")
	assert.Less(t, took, 15*time.Second, "the record reached %s's DLQ after %s", fn.FunctionName, took)
	t.Logf("the record was in %s's DLQ after %s", fn.FunctionName, took.Round(100*time.Millisecond))
	receivedOnce(ctx, t, awsCfg, fn.LogGroupName, "moved to the DLQ at once", aws.ToString(out.MessageId))
}
