package sqsretry_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
)

type fakeSQS struct {
	redrive  map[string]string // queue URL -> RedrivePolicy
	sent     []*sqs.SendMessageInput
	changed  []*sqs.ChangeMessageVisibilityInput
	urlCalls int
}

func (f *fakeSQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.urlCalls++
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("https://sqs/" + *in.QueueOwnerAWSAccountId + "/" + *in.QueueName)}, nil
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"RedrivePolicy": f.redrive[*in.QueueUrl]}}, nil
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{}, nil
}

func (f *fakeSQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.changed = append(f.changed, in)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

const source = "arn:aws:sqs:us-east-1:000000000000:zeebe_jobs2complete"

func newFake() *fakeSQS {
	return &fakeSQS{redrive: map[string]string{
		"https://sqs/000000000000/zeebe_jobs2complete": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:zeebe_jobs2complete_dlq","maxReceiveCount":10}`,
	}}
}

func TestDeadLetterCopiesTheRecordWithItsReason(t *testing.T) {
	f := newFake()
	q := sqsretry.New(f)
	r := events.SQSMessage{MessageId: "m1", Body: "not json", EventSourceARN: source, ReceiptHandle: "rh",
		MessageAttributes: map[string]events.SQSMessageAttribute{"outcome": {DataType: "String", StringValue: aws.String("complete")}}}
	require.NoError(t, q.DeadLetter(context.Background(), r, "not an outcome message", sqsretry.CauseUnknown))
	require.NoError(t, q.DeadLetter(context.Background(), r, "again", sqsretry.CauseConfiguration))
	require.Len(t, f.sent, 2)
	assert.Equal(t, "https://sqs/000000000000/zeebe_jobs2complete_dlq", *f.sent[0].QueueUrl)
	assert.Equal(t, "not json", *f.sent[0].MessageBody)
	assert.Equal(t, "complete", *f.sent[0].MessageAttributes["outcome"].StringValue)
	assert.Equal(t, "not an outcome message", *f.sent[0].MessageAttributes[sqsretry.AttrReason].StringValue)
	assert.NotContains(t, f.sent[0].MessageAttributes, sqsretry.AttrCause, "no cause: nothing says a retry cannot help")
	assert.Equal(t, "configuration", *f.sent[1].MessageAttributes[sqsretry.AttrCause].StringValue)
	dead := events.SQSMessage{MessageAttributes: map[string]events.SQSMessageAttribute{}}
	for k, v := range f.sent[1].MessageAttributes {
		dead.MessageAttributes[k] = events.SQSMessageAttribute{DataType: *v.DataType, StringValue: v.StringValue}
	}
	assert.Equal(t, sqsretry.CauseConfiguration, sqsretry.CauseOf(dead), "read back by the returner")
	assert.Equal(t, sqsretry.CauseUnknown, sqsretry.CauseOf(r))
	assert.Equal(t, 2, f.urlCalls, "the queue and its DLQ are looked up once")
}

func TestDeadLetterWithoutARedrivePolicyFails(t *testing.T) {
	f := &fakeSQS{redrive: map[string]string{}}
	err := sqsretry.New(f).DeadLetter(context.Background(), events.SQSMessage{EventSourceARN: source}, "x", sqsretry.CauseUnknown)
	assert.ErrorContains(t, err, "no dead-letter queue")
	assert.ErrorContains(t, sqsretry.New(f).DeadLetter(context.Background(), events.SQSMessage{EventSourceARN: "nope"}, "x", sqsretry.CauseUnknown), "not an SQS queue ARN")
}

func TestRetryLaterBacksOffByReceiveCount(t *testing.T) {
	f := newFake()
	q := sqsretry.New(f)
	for _, tt := range []struct {
		count string
		want  time.Duration
	}{{"", time.Second}, {"1", time.Second}, {"2", 2 * time.Second}, {"3", 4 * time.Second}, {"4", 8 * time.Second}, {"5", 10 * time.Second}, {"9", 10 * time.Second}} {
		r := events.SQSMessage{MessageId: "m", EventSourceARN: source, ReceiptHandle: "rh-" + tt.count,
			Attributes: map[string]string{"ApproximateReceiveCount": tt.count}}
		d, err := q.RetryLater(context.Background(), r)
		require.NoError(t, err)
		assert.Equal(t, tt.want, d, "receive count %q", tt.count)
		last := f.changed[len(f.changed)-1]
		assert.Equal(t, int32(tt.want/time.Second), last.VisibilityTimeout)
		assert.Equal(t, "rh-"+tt.count, *last.ReceiptHandle)
		assert.Equal(t, "https://sqs/000000000000/zeebe_jobs2complete", *last.QueueUrl)
	}
}

// The whole outage a record can ride out before its maxReceiveCount (10 on
// the outcomes queue) sends it to the DLQ: more than a minute.
func TestBackoffsOutlastAMinuteOutage(t *testing.T) {
	var total time.Duration
	for n := 1; n < 10; n++ {
		total += sqsretry.Backoff(n)
	}
	assert.Greater(t, total, time.Minute)
}

func TestHoldIsCappedAtTwelveHours(t *testing.T) {
	f := newFake()
	q := sqsretry.New(f)
	for _, tt := range []struct {
		hold time.Duration
		want int32
	}{{0, 0}, {-time.Second, 0}, {90 * time.Second, 90}, {24 * time.Hour, 43200}} {
		require.NoError(t, q.Hold(context.Background(), events.SQSMessage{EventSourceARN: source, ReceiptHandle: "rh"}, tt.hold))
		assert.Equal(t, tt.want, f.changed[len(f.changed)-1].VisibilityTimeout, "hold %s", tt.hold)
	}
}
