// Package activationtest is an in-memory S3 for the tests of the activation
// guard's users: it honours If-None-Match: * as S3 does, and serves as the
// payload bucket of the claim check too.
package activationtest

import (
	"bytes"
	"context"
	"io"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 keeps objects of one bucket in memory.
type S3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	// Puts and Gets count the calls, as S3 bills them.
	Puts, Gets int
	// Err, when set, is returned by every call.
	Err error
}

// PutObject stores the body; with IfNoneMatch "*" it refuses to overwrite,
// answering PreconditionFailed as S3 does.
func (m *S3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Puts++
	if m.Err != nil {
		return nil, m.Err
	}
	if m.objects == nil {
		m.objects = map[string][]byte{}
	}
	key := aws.ToString(in.Key)
	if _, ok := m.objects[key]; ok && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"}
	}
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	m.objects[key] = b
	return &s3.PutObjectOutput{}, nil
}

// GetObject returns a stored body, or NoSuchKey.
func (m *S3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Gets++
	if m.Err != nil {
		return nil, m.Err
	}
	b, ok := m.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(int64(len(b)))}, nil
}

// DeleteObject removes an object; a missing one is no error, as in S3.
func (m *S3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return nil, m.Err
	}
	delete(m.objects, aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

// Keys lists the stored keys, sorted.
func (m *S3) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.objects))
	for k := range m.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
