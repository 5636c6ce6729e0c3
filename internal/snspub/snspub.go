// Package snspub publishes contract messages to an SNS topic, up to ten
// (and 256 KiB) per PublishBatch call, reporting success or failure per
// message.
package snspub

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// BatchSize is the most entries SNS accepts in one PublishBatch call.
const BatchSize = 10

// ErrPublish classifies a failure to hand a message to SNS.
var ErrPublish = errors.New("sns publish failed")

// API is the part of the SNS client the publisher uses.
type API interface {
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
}

// Publisher publishes to SNS topics.
type Publisher struct {
	api API
}

// New returns a Publisher using the given SNS client.
func New(api API) *Publisher { return &Publisher{api: api} }

// MaxBatchBytes is the most SNS accepts in one PublishBatch call, all
// entries' bodies and attributes together: the same 256 KiB as one message.
const MaxBatchBytes = jobmsg.MaxMessageBytes

// Publish sends msgs to the topic and returns one error per message, nil
// where SNS accepted it. Every non-nil error wraps ErrPublish.
func (p *Publisher) Publish(ctx context.Context, topicARN string, msgs []jobmsg.Message) []error {
	errs := make([]error, len(msgs))
	for start := 0; start < len(msgs); {
		end := chunkEnd(msgs, start)
		p.publishChunk(ctx, topicARN, msgs[start:end], errs[start:end])
		start = end
	}
	return errs
}

// chunkEnd returns the end of the batch starting at start: at most
// BatchSize entries and MaxBatchBytes together, since SNS rejects a whole
// batch above that (BatchRequestTooLong), even when every entry fits on its
// own. A batch always takes at least one message.
func chunkEnd(msgs []jobmsg.Message, start int) int {
	end, size := start, 0
	for end < len(msgs) && end-start < BatchSize {
		n := msgs[end].Size()
		if end > start && size+n > MaxBatchBytes {
			break
		}
		size += n
		end++
	}
	return end
}

func (p *Publisher) publishChunk(ctx context.Context, topicARN string, msgs []jobmsg.Message, errs []error) {
	entries := make([]types.PublishBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		attrs := make(map[string]types.MessageAttributeValue, len(m.Attributes))
		for k, v := range m.Attributes {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
		entries[i] = types.PublishBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(i)),
			Message:           aws.String(string(m.Body)),
			MessageAttributes: attrs,
		}
	}
	out, err := p.api.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topicARN), PublishBatchRequestEntries: entries})
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("%w: %w", ErrPublish, err)
		}
		return
	}
	seen := make([]bool, len(msgs))
	for _, ok := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i >= 0 && i < len(msgs) {
			seen[i] = true
		}
	}
	for _, f := range out.Failed {
		if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < len(msgs) {
			seen[i] = true
			errs[i] = fmt.Errorf("%w: %s: %s", ErrPublish, aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	for i, s := range seen {
		if !s { // SNS answered neither success nor failure for this entry: treat as failed, never as sent
			errs[i] = fmt.Errorf("%w: no result for entry %d", ErrPublish, i)
		}
	}
}
