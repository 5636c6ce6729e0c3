// Package heartbeatlease keeps the leases of asynchronous completion in S3: for each
// activation of a job that sent a heartbeat, until when that heartbeat keeps
// it alive (fulfiller.Leases). One small object per activation,
// leases/<job key>/<first deadline>, written by the fulfiller on every
// heartbeat and deleted when the job is answered; the bucket's lifecycle rule
// removes those of jobs that never were.
//
// S3 is strongly consistent for reads after writes, and the fulfiller only
// needs the last heartbeat's lease, so plain puts suffice.
package heartbeatlease

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
)

// Prefix is where leases live in the bucket.
const Prefix = "leases/"

// Store keeps leases in one bucket.
type Store struct {
	API    claimcheck.S3 // the same calls as the payload store's
	Bucket string
}

// record is an object's content.
type record struct {
	UntilMs int64 `json:"untilMs"`
}

// Key is the object key of an activation's lease.
func Key(jobKey, activation int64) string {
	return Prefix + strconv.FormatInt(jobKey, 10) + "/" + strconv.FormatInt(activation, 10)
}

// Get returns the end of the activation's lease; ok is false when it has none.
func (s *Store) Get(ctx context.Context, jobKey, activation int64) (time.Time, bool, error) {
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(Key(jobKey, activation))})
	var nk *s3types.NoSuchKey
	if errors.As(err, &nk) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, Key(jobKey, activation), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 4096))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, Key(jobKey, activation), err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.UntilMs == 0 {
		return time.Time{}, false, fmt.Errorf("s3://%s/%s is not a lease: %q", s.Bucket, Key(jobKey, activation), b)
	}
	return time.UnixMilli(r.UntilMs), true, nil
}

// Put sets the end of the activation's lease.
func (s *Store) Put(ctx context.Context, jobKey, activation int64, until time.Time) error {
	b, _ := json.Marshal(record{UntilMs: until.UnixMilli()})
	_, err := s.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(Key(jobKey, activation)),
		Body: bytes.NewReader(b), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, Key(jobKey, activation), err)
	}
	return nil
}

// Delete removes the activation's lease; a missing one is no error.
func (s *Store) Delete(ctx context.Context, jobKey, activation int64) error {
	_, err := s.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(Key(jobKey, activation))})
	if err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", s.Bucket, Key(jobKey, activation), err)
	}
	return nil
}

// FromEnv returns a store on the bucket LEASE_BUCKET names, or nil when it
// names none.
func FromEnv(getenv func(string) string, awsCfg aws.Config) *Store {
	bucket := getenv(EnvBucket)
	if bucket == "" {
		return nil
	}
	return &Store{API: claimcheck.NewS3(getenv, awsCfg), Bucket: bucket}
}

// EnvBucket names the bucket of the leases.
const EnvBucket = "LEASE_BUCKET"
