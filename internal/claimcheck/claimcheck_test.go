package claimcheck_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

type fakeS3 struct {
	objects map[string][]byte
	sse     map[string]s3types.ServerSideEncryption
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, _ := io.ReadAll(in.Body)
	f.objects[*in.Bucket+"/"+*in.Key] = b
	f.sse[*in.Bucket+"/"+*in.Key] = in.ServerSideEncryption
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, ok := f.objects[*in.Bucket+"/"+*in.Key]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	delete(f.objects, *in.Bucket+"/"+*in.Key)
	return &s3.DeleteObjectOutput{}, nil
}

func TestOffloadAndResolve(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{}, sse: map[string]s3types.ServerSideEncryption{}}
	st := &claimcheck.Store{API: f, Bucket: "payloads", Threshold: 1024}
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		body      string
		offloaded bool
	}{
		{"small stays in the message", `{"v":1,"x":"small"}`, false},
		{"large goes to S3", `{"v":1,"x":"` + strings.Repeat("é<&", 1000) + `"}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := jobmsg.Message{Body: []byte(tt.body), Attributes: map[string]string{"lambdaIdentifier": "echo"}}
			key := claimcheck.Key(claimcheck.PrefixJobs, "echo", 42, 1000)
			out, offloaded, err := st.Offload(ctx, key, m)
			require.NoError(t, err)
			assert.Equal(t, tt.offloaded, offloaded)
			assert.Equal(t, "echo", out.Attributes["lambdaIdentifier"], "routing survives")
			if !tt.offloaded {
				assert.Equal(t, m, out)
				return
			}
			assert.Equal(t, "jobs/echo/42-1000.json", key)
			assert.JSONEq(t, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"jobs/echo/42-1000.json"}]`, string(out.Body),
				"the pointer AWS's extended clients write")
			assert.Equal(t, fmt.Sprint(len(tt.body)), out.Attributes[claimcheck.AttrSize])
			assert.Equal(t, s3types.ServerSideEncryptionAes256, f.sse["payloads/"+key], "encrypted")
			payload, p, err := st.Resolve(ctx, out.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(payload), "byte for byte")
			require.NoError(t, st.Delete(ctx, *p))
			_, _, err = st.Resolve(ctx, out.Body)
			assert.ErrorIs(t, err, claimcheck.ErrNotFound)
		})
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`, true},
		{` ["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "k"}] `, true},
		{`["com.example.Other",{"s3BucketName":"b","s3Key":"k"}]`, false},
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`, false},
		{`[1,2,3]`, false},
		{`{"v":1}`, false},
		{`not json`, false},
	} {
		_, ok := claimcheck.Parse([]byte(tt.body))
		assert.Equal(t, tt.ok, ok, tt.body)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	st, err := claimcheck.FromEnv(env(nil), aws.Config{})
	require.NoError(t, err)
	assert.Nil(t, st, "off without a bucket")
	st, err = claimcheck.FromEnv(env(map[string]string{"PAYLOAD_BUCKET": "b"}), aws.Config{})
	require.NoError(t, err)
	assert.Equal(t, claimcheck.DefaultThreshold, st.Threshold)
	_, err = claimcheck.FromEnv(env(map[string]string{"PAYLOAD_BUCKET": "b", "PAYLOAD_THRESHOLD": "300000"}), aws.Config{})
	assert.ErrorContains(t, err, "PAYLOAD_THRESHOLD")
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		key              string
		prefix, ident    string
		jobKey, deadline int64
		ok               bool
	}{
		{claimcheck.Key(claimcheck.PrefixOutcomes, "book-hotel", 2251799813685249, 1700000000000), "outcomes", "book-hotel", 2251799813685249, 1700000000000, true},
		{claimcheck.Key(claimcheck.PrefixJobs, "echo-mib", 1, 2), "jobs", "echo-mib", 1, 2, true},
		{"outcomes/book-hotel/1-2", "", "", 0, 0, false},
		{"outcomes/book-hotel/x-2.json", "", "", 0, 0, false},
		{"outcomes/a/b/1-2.json", "", "", 0, 0, false},
		{"outcomes//1-2.json", "", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			prefix, ident, job, dl, ok := claimcheck.ParseKey(tt.key)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.prefix, prefix)
			assert.Equal(t, tt.ident, ident)
			assert.Equal(t, tt.jobKey, job)
			assert.Equal(t, tt.deadline, dl)
		})
	}
}
