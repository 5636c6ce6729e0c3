// Package sqsretry decides when an SQS record comes back, instead of
// leaving it to the queue's settings.
//
// Two cases need it. A record that can never succeed (not a message of ours,
// an unknown contract version, a command the engine rejects as invalid) would
// otherwise be received again and again until maxReceiveCount sends it to the
// DLQ, one visibility timeout apart: DeadLetter moves it there at once, with
// the reason as a message attribute. A record that met an unavailable engine
// would otherwise wait out the whole visibility timeout, by which time its
// job has timed out and run again: RetryLater brings it back after a short,
// capped backoff.
package sqsretry

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// AttrReason is the message attribute that says why a record was dead-lettered.
const AttrReason = "deadLetterReason"

// AttrCause is the message attribute that classifies the fault behind a
// dead-lettered record, for whoever takes it out of the DLQ (the returner).
const AttrCause = "deadLetterCause"

// Cause classifies the fault that dead-lettered a record.
type Cause string

const (
	// CauseUnknown: nothing says a retry cannot help (no AttrCause).
	CauseUnknown Cause = ""
	// CauseConfiguration: the function's deployment is wrong (no payload
	// bucket, no permission on it or on a topic). Every retry would fail the
	// same way until a person fixes it.
	CauseConfiguration Cause = "configuration"
)

// CauseOf reads the cause a dead-lettered record carries.
func CauseOf(r events.SQSMessage) Cause {
	if a, ok := r.MessageAttributes[AttrCause]; ok && a.StringValue != nil {
		return Cause(*a.StringValue)
	}
	return CauseUnknown
}

// SQS is the part of the SQS client used here.
type SQS interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Queues finds a record's queue and dead-letter queue from its event source
// ARN and the queue's redrive policy, and caches them. It is safe for
// concurrent use.
type Queues struct {
	api SQS

	mu    sync.Mutex
	known map[string]queue // by source queue ARN
}

type queue struct {
	url, dlqURL string
}

// New returns Queues on an SQS client.
func New(api SQS) *Queues { return &Queues{api: api, known: map[string]queue{}} }

// Backoff is the visibility a retried record gets after its n-th receive:
// 1 s, 2 s, 4 s, ... up to 10 s, so it comes back within seconds of the
// engine's return.
func Backoff(receiveCount int) time.Duration {
	if receiveCount < 1 {
		receiveCount = 1
	}
	if receiveCount > 5 {
		return 10 * time.Second
	}
	return min(time.Second<<(receiveCount-1), 10*time.Second)
}

// ReceiveCount is the record's ApproximateReceiveCount (1 if absent).
func ReceiveCount(r events.SQSMessage) int {
	n, err := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// RetryLater sets the record's visibility to Backoff(receive count); the
// caller then reports the record failed.
func (q *Queues) RetryLater(ctx context.Context, r events.SQSMessage) (time.Duration, error) {
	d := Backoff(ReceiveCount(r))
	if err := q.Hold(ctx, r, d); err != nil {
		return 0, err
	}
	return d, nil
}

// MaxHold is the longest SQS keeps a received message invisible (12 hours).
const MaxHold = 12 * time.Hour

// Hold keeps the record invisible for d (whole seconds, at most MaxHold)
// from now on; the caller then reports the record failed, and it comes back
// after d. Held for MaxHold, a record a consumer cannot use stays in its
// queue without being received again and again.
func (q *Queues) Hold(ctx context.Context, r events.SQSMessage, d time.Duration) error {
	qu, err := q.lookup(ctx, r.EventSourceARN, false)
	if err != nil {
		return err
	}
	d = min(max(d, 0), MaxHold)
	_, err = q.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(qu.url),
		ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: int32(d / time.Second)})
	if err != nil {
		return fmt.Errorf("change the visibility of message %s: %w", r.MessageId, err)
	}
	return nil
}

// DeadLetter sends a copy of the record, its attributes and the reason to the
// source queue's DLQ; the caller then reports the record done, so the event
// source mapping deletes it from the source queue.
func (q *Queues) DeadLetter(ctx context.Context, r events.SQSMessage, reason string, cause Cause) error {
	qu, err := q.lookup(ctx, r.EventSourceARN, true)
	if err != nil {
		return err
	}
	attrs := map[string]sqstypes.MessageAttributeValue{}
	for k, v := range r.MessageAttributes {
		if k == AttrReason || k == AttrCause {
			continue // ours to set
		}
		if len(attrs) == 8 { // SQS allows 10; two are ours
			break
		}
		if v.StringValue != nil {
			dt := v.DataType
			if dt == "" {
				dt = "String"
			}
			attrs[k] = sqstypes.MessageAttributeValue{DataType: aws.String(dt), StringValue: v.StringValue}
		}
	}
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	attrs[AttrReason] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(reason)}
	if cause != CauseUnknown {
		attrs[AttrCause] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(string(cause))}
	}
	_, err = q.api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qu.dlqURL), MessageBody: aws.String(r.Body),
		MessageAttributes: attrs})
	if err != nil {
		return fmt.Errorf("send message %s to the dead-letter queue: %w", r.MessageId, err)
	}
	return nil
}

func (q *Queues) lookup(ctx context.Context, sourceARN string, needDLQ bool) (queue, error) {
	q.mu.Lock()
	qu, ok := q.known[sourceARN]
	q.mu.Unlock()
	if ok && (qu.dlqURL != "" || !needDLQ) {
		return qu, nil
	}
	url, err := q.urlOf(ctx, sourceARN)
	if err != nil {
		return queue{}, err
	}
	qu = queue{url: url}
	out, err := q.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return queue{}, fmt.Errorf("read the redrive policy of %s: %w", sourceARN, err)
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if raw := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &rp)
	}
	if rp.DeadLetterTargetArn != "" {
		if qu.dlqURL, err = q.urlOf(ctx, rp.DeadLetterTargetArn); err != nil {
			return queue{}, err
		}
	}
	if needDLQ && qu.dlqURL == "" {
		return queue{}, fmt.Errorf("queue %s has no dead-letter queue in its redrive policy", sourceARN)
	}
	q.mu.Lock()
	q.known[sourceARN] = qu
	q.mu.Unlock()
	return qu, nil
}

// urlOf turns arn:aws:sqs:<region>:<account>:<name> into the queue's URL.
func (q *Queues) urlOf(ctx context.Context, arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sqs" {
		return "", fmt.Errorf("%q is not an SQS queue ARN", arn)
	}
	out, err := q.api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5]), QueueOwnerAWSAccountId: aws.String(parts[4])})
	if err != nil {
		return "", fmt.Errorf("find the URL of %s: %w", arn, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
