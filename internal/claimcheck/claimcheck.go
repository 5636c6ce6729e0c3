// Package claimcheck moves message payloads too large for SNS into S3 and
// puts a pointer in the message instead (the claim-check pattern), and
// resolves such pointers on the receiving side.
//
// The pointer is the one AWS's payload offloading libraries write (the SNS
// and SQS extended clients for Java and Python): the message body becomes
// ["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":...,"s3Key":...}]
// and the attribute ExtendedPayloadSize carries the original size, so a
// function written with those libraries can share the bucket with the bridge.
package claimcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// PointerClass is the first element of a pointer body.
const PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"

// AttrSize is the message attribute holding the offloaded payload's size.
const AttrSize = "ExtendedPayloadSize"

// DefaultThreshold is the message size above which Offload moves the body to
// S3: below SNS's 256 KiB, leaving room for attributes.
const DefaultThreshold = 200 * 1024

// Pointer names an offloaded payload.
type Pointer struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// Body returns the message body that stands for the payload.
func (p Pointer) Body() []byte {
	b, _ := json.Marshal([]any{PointerClass, p})
	return b
}

// Parse tells a pointer body from any other: ok is false for a body that is
// not one.
func Parse(body []byte) (p Pointer, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return Pointer{}, false
	}
	var parts []json.RawMessage
	if json.Unmarshal(body, &parts) != nil || len(parts) != 2 {
		return Pointer{}, false
	}
	var class string
	if json.Unmarshal(parts[0], &class) != nil || class != PointerClass {
		return Pointer{}, false
	}
	if json.Unmarshal(parts[1], &p) != nil || p.Bucket == "" || p.Key == "" {
		return Pointer{}, false
	}
	return p, true
}

// S3 is the part of the S3 client the store uses.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Store offloads to and resolves from one bucket.
type Store struct {
	API    S3
	Bucket string
	// Threshold is the message size (body and attributes, as SNS counts)
	// above which Offload stores the body; DefaultThreshold if zero.
	Threshold int
}

// ErrNotFound: the pointer's object is gone (the bucket's lifecycle rule
// removed it, or it was deleted after use).
var ErrNotFound = errors.New("claim-check object not found")

// Offload returns m as it is when it is within the threshold; otherwise it
// stores the body under key (encrypted) and returns a message whose body is
// the pointer, with m's attributes and AttrSize.
func (s *Store) Offload(ctx context.Context, key string, m jobmsg.Message) (jobmsg.Message, bool, error) {
	threshold := s.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if m.Size() <= threshold {
		return m, false, nil
	}
	_, err := s.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(m.Body),
		ContentType: aws.String("application/json"), ServerSideEncryption: s3types.ServerSideEncryptionAes256})
	if err != nil {
		return jobmsg.Message{}, false, fmt.Errorf("store the %d-byte payload at s3://%s/%s: %w", len(m.Body), s.Bucket, key, err)
	}
	attrs := make(map[string]string, len(m.Attributes)+1)
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	attrs[AttrSize] = strconv.Itoa(len(m.Body))
	return jobmsg.Message{Body: Pointer{Bucket: s.Bucket, Key: key}.Body(), Attributes: attrs}, true, nil
}

// MaxPayloadBytes caps what Resolve reads: twice Zeebe's default maximum
// message size (4 MB), far above any message the bridge writes, and far
// below a Lambda's memory.
const MaxPayloadBytes = 8 << 20

// ErrRefused: a pointer that the bridge never writes (another bucket, a key
// outside the message's prefix, a payload above MaxPayloadBytes). Reading
// it again cannot help.
var ErrRefused = errors.New("claim-check pointer refused")

// Resolve returns the payload a pointer body stands for, or body itself when
// it is not a pointer (p is then nil). It reads only the store's own bucket
// and at most MaxPayloadBytes.
func (s *Store) Resolve(ctx context.Context, body []byte) (payload []byte, p *Pointer, err error) {
	ptr, ok := Parse(body)
	if !ok {
		return body, nil, nil
	}
	if ptr.Bucket != s.Bucket {
		return nil, &ptr, fmt.Errorf("%w: s3://%s/%s is not in the bridge's bucket %s", ErrRefused, ptr.Bucket, ptr.Key, s.Bucket)
	}
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(ptr.Bucket), Key: aws.String(ptr.Key)})
	if err != nil {
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, &ptr, fmt.Errorf("%w: s3://%s/%s", ErrNotFound, ptr.Bucket, ptr.Key)
		}
		return nil, &ptr, fmt.Errorf("read the payload at s3://%s/%s: %w", ptr.Bucket, ptr.Key, err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > MaxPayloadBytes {
		return nil, &ptr, fmt.Errorf("%w: s3://%s/%s is %d bytes, above the %d the bridge reads", ErrRefused, ptr.Bucket, ptr.Key, n, MaxPayloadBytes)
	}
	payload, err = io.ReadAll(io.LimitReader(out.Body, MaxPayloadBytes+1))
	if err != nil {
		return nil, &ptr, fmt.Errorf("read the payload at s3://%s/%s: %w", ptr.Bucket, ptr.Key, err)
	}
	if len(payload) > MaxPayloadBytes {
		return nil, &ptr, fmt.Errorf("%w: s3://%s/%s is above the %d bytes the bridge reads", ErrRefused, ptr.Bucket, ptr.Key, MaxPayloadBytes)
	}
	return payload, &ptr, nil
}

// Delete removes an offloaded payload once it has served; the bucket's
// lifecycle rule removes what is never deleted.
func (s *Store) Delete(ctx context.Context, p Pointer) error {
	if _, err := s.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	return nil
}

// Key names a job's payload: "<prefix>/<identifier>/<job key>-<deadline>.json".
// The identifier in the path lets each function's role reach its own
// payloads only.
func Key(prefix, identifier string, jobKey, deadline int64) string {
	return fmt.Sprintf("%s/%s/%d-%d.json", prefix, identifier, jobKey, deadline)
}

// ParseKey reads back what Key put in a key: ok is false for a key Key
// does not write.
func ParseKey(key string) (prefix, identifier string, jobKey, deadline int64, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", 0, 0, false
	}
	name, isJSON := strings.CutSuffix(parts[2], ".json")
	job, dl, found := strings.Cut(name, "-")
	if !isJSON || !found {
		return "", "", 0, 0, false
	}
	j, err1 := strconv.ParseInt(job, 10, 64)
	d, err2 := strconv.ParseInt(dl, 10, 64)
	if err1 != nil || err2 != nil {
		return "", "", 0, 0, false
	}
	return parts[0], parts[1], j, d, true
}

// Prefixes of the bridge's payloads.
const (
	PrefixJobs     = "jobs"
	PrefixOutcomes = "outcomes"
)

// Environment variables read by FromEnv.
const (
	// EnvBucket names the bucket; without it payloads are not offloaded.
	EnvBucket = "PAYLOAD_BUCKET"
	// EnvThreshold is Store.Threshold in bytes.
	EnvThreshold = "PAYLOAD_THRESHOLD"
)

// FromEnv returns the Store PAYLOAD_BUCKET and PAYLOAD_THRESHOLD describe,
// or nil when PAYLOAD_BUCKET is unset. With a custom endpoint
// (AWS_ENDPOINT_URL, such as LocalStack's) it addresses the bucket by path.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (*Store, error) {
	bucket := getenv(EnvBucket)
	if bucket == "" {
		return nil, nil
	}
	threshold := DefaultThreshold
	if v := getenv(EnvThreshold); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > jobmsg.MaxMessageBytes {
			return nil, fmt.Errorf("invalid %s=%q: want a number of bytes between 1024 and %d", EnvThreshold, v, jobmsg.MaxMessageBytes)
		}
		threshold = n
	}
	return &Store{API: NewS3(getenv, awsCfg), Bucket: bucket, Threshold: threshold}, nil
}

// NewS3 returns an S3 client for the bridge's bucket. With a custom
// endpoint (AWS_ENDPOINT_URL, such as LocalStack's) it addresses the bucket
// by path, not by virtual host.
func NewS3(getenv func(string) string, awsCfg aws.Config) *s3.Client {
	pathStyle := getenv("AWS_ENDPOINT_URL") != "" || getenv("AWS_ENDPOINT_URL_S3") != ""
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}
