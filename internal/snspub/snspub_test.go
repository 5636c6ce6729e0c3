package snspub_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
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

// TestPublishKeepsBatchesUnder256KiB: SNS rejects a whole PublishBatch whose
// entries add up to more than 256 KiB, even if each entry fits on its own.
func TestPublishKeepsBatchesUnder256KiB(t *testing.T) {
	big := func(i int) jobmsg.Message {
		return jobmsg.Message{Body: []byte(strconv.Itoa(i) + strings.Repeat("x", 100*1024)), Attributes: map[string]string{"lambdaIdentifier": "fn"}}
	}
	in := []jobmsg.Message{big(0), big(1), big(2), msgs(1)[0], big(4)}
	f := &fakeSNS{}
	errs := snspub.New(f).Publish(context.Background(), "arn:topic", in)
	for i, err := range errs {
		require.NoError(t, err, "entry %d", i)
	}
	var sent []string
	for _, b := range f.batches {
		size := 0
		for _, e := range b {
			size += len(aws.ToString(e.Message))
			sent = append(sent, aws.ToString(e.Message))
		}
		assert.LessOrEqual(t, size, snspub.MaxBatchBytes)
	}
	require.Len(t, f.batches, 2)
	assert.Len(t, f.batches[0], 2, "a third 100 KiB message would exceed 256 KiB")
	assert.Len(t, f.batches[1], 3)
	require.Len(t, sent, len(in))
	for i, m := range in {
		assert.Equal(t, string(m.Body), sent[i], "order is kept")
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
