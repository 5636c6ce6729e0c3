package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Delivery is one message handed to a function by the event source mapping.
type Delivery struct {
	MessageID    string
	ReceiveCount int // SQS ApproximateReceiveCount when it was received
	Failed       bool
	At           time.Time
}

// eventSourceMapping stands in for Lambda's SQS event source mapping: it
// long-polls a queue, hands batches to a Lambda handler as the runtime would
// (an events.SQSEvent payload, a context with the function's deadline), and
// deletes the records the handler did not report in batchItemFailures. A
// reported record stays in the queue; after its visibility timeout SQS
// redrives it to the DLQ because the function queues allow one receive.
type eventSourceMapping struct {
	name      string
	sqs       *sqs.Client
	queueURL  string
	queueARN  string
	handler   lambda.Handler
	timeout   time.Duration
	batchSize int32
	log       *slog.Logger

	mu         sync.Mutex
	deliveries []Delivery
}

func (m *eventSourceMapping) run(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.queueURL),
			MaxNumberOfMessages:         m.batchSize,
			WaitTimeSeconds:             1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("receive failed", "queue", m.queueURL, "error", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(out.Messages) > 0 {
			m.invoke(ctx, out.Messages)
		}
	}
}

func (m *eventSourceMapping) invoke(ctx context.Context, msgs []sqstypes.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, msg := range msgs {
		ev.Records[i] = toLambdaRecord(msg, m.queueARN)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		m.log.Error("encode SQS event", "error", err)
		return
	}
	ictx, cancel := context.WithTimeout(ctx, m.timeout)
	resp, err := m.handler.Invoke(ictx, payload)
	cancel()

	failed := map[string]bool{}
	if err != nil {
		// A function error fails the whole batch, as on AWS.
		m.log.Warn("function returned an error", "function", m.name, "error", err)
		for _, r := range ev.Records {
			failed[r.MessageId] = true
		}
	} else {
		var out events.SQSEventResponse
		if len(resp) > 0 && string(resp) != "null" {
			if err := json.Unmarshal(resp, &out); err != nil {
				m.log.Warn("function response is not an SQSEventResponse", "function", m.name, "error", err)
			}
		}
		for _, f := range out.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}

	var del []sqstypes.DeleteMessageBatchRequestEntry
	m.mu.Lock()
	for i, msg := range msgs {
		id := aws.ToString(msg.MessageId)
		n, _ := strconv.Atoi(msg.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
		m.deliveries = append(m.deliveries, Delivery{MessageID: id, ReceiveCount: n, Failed: failed[id], At: time.Now()})
		if !failed[id] {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	m.mu.Unlock()
	if len(del) > 0 {
		if _, err := m.sqs.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.queueURL), Entries: del}); err != nil {
			m.log.Warn("delete failed", "queue", m.queueURL, "error", err)
		}
	}
}

func (m *eventSourceMapping) snapshot() []Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Delivery(nil), m.deliveries...)
}

// toLambdaRecord converts a ReceiveMessage result to the record shape Lambda
// passes a function.
func toLambdaRecord(msg sqstypes.Message, queueARN string) events.SQSMessage {
	attrs := make(map[string]events.SQSMessageAttribute, len(msg.MessageAttributes))
	for k, a := range msg.MessageAttributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: a.StringValue, DataType: aws.ToString(a.DataType)}
	}
	return events.SQSMessage{
		MessageId:         aws.ToString(msg.MessageId),
		ReceiptHandle:     aws.ToString(msg.ReceiptHandle),
		Body:              aws.ToString(msg.Body),
		Md5OfBody:         aws.ToString(msg.MD5OfBody),
		Attributes:        msg.Attributes,
		MessageAttributes: attrs,
		EventSource:       "aws:sqs",
		EventSourceARN:    queueARN,
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// queueDepth returns the visible plus in-flight messages of a queue.
func queueDepth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("read depth of %s: %w", url, err)
	}
	var n int
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, err := strconv.Atoi(out.Attributes[string(k)])
		if err != nil {
			return 0, errors.Join(fmt.Errorf("queue %s: attribute %s = %q", url, k, out.Attributes[string(k)]), err)
		}
		n += v
	}
	return n, nil
}
