package snspub_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/snspub"
)

// fakeSNS records batches and fails the entries whose body is in failBodies.
type fakeSNS struct {
	batches    [][]types.PublishBatchRequestEntry
	failBodies map[string]bool
	callErr    error
	silent     bool // answer with neither success nor failure
}

func (f *fakeSNS) PublishBatch(_ context.Context, in *sns.PublishBatchInput, _ ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	f.batches = append(f.batches, in.PublishBatchRequestEntries)
	if f.callErr != nil {
		return nil, f.callErr
	}
	out := &sns.PublishBatchOutput{}
	if f.silent {
		return out, nil
	}
	for _, e := range in.PublishBatchRequestEntries {
		if f.failBodies[aws.ToString(e.Message)] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try later")})
		} else {
			out.Successful = append(out.Successful, types.PublishBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

func msgs(n int) []jobmsg.Message {
	out := make([]jobmsg.Message, n)
	for i := range out {
		out[i] = jobmsg.Message{Body: []byte("m" + strconv.Itoa(i)), Attributes: map[string]string{"lambdaIdentifier": "fn"}}
	}
	return out
}

func TestPublishChunksByTen(t *testing.T) {
	f := &fakeSNS{failBodies: map[string]bool{"m3": true, "m17": true}}
	errs := snspub.New(f).Publish(context.Background(), "arn:topic", msgs(25))

	require.Len(t, f.batches, 3)
	assert.Len(t, f.batches[0], 10)
	assert.Len(t, f.batches[1], 10)
	assert.Len(t, f.batches[2], 5)
	assert.Equal(t, "fn", aws.ToString(f.batches[0][0].MessageAttributes["lambdaIdentifier"].StringValue))
	assert.Equal(t, "String", aws.ToString(f.batches[0][0].MessageAttributes["lambdaIdentifier"].DataType))

	require.Len(t, errs, 25)
	for i, err := range errs {
		if i == 3 || i == 17 {
			require.ErrorIs(t, err, snspub.ErrPublish, "entry %d", i)
			assert.Contains(t, err.Error(), "InternalError")
		} else {
			assert.NoError(t, err, "entry %d", i)
		}
	}
}

func TestPublishFailures(t *testing.T) {
	tests := []struct {
		name string
		api  *fakeSNS
	}{
		{"call fails", &fakeSNS{callErr: errors.New("connection refused")}},
		{"entries unanswered", &fakeSNS{silent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := snspub.New(tt.api).Publish(context.Background(), "arn:topic", msgs(12))
			require.Len(t, errs, 12)
			for i, err := range errs {
				require.ErrorIs(t, err, snspub.ErrPublish, "entry %d", i)
			}
		})
	}
}

func ExamplePublisher_Publish() {
	p := snspub.New(&fakeSNS{})
	errs := p.Publish(context.Background(), "arn:aws:sns:us-east-1:000000000000:zeebe_jobs", msgs(3))
	fmt.Println(len(errs), errs[0])
	// Output: 3 <nil>
}
