// Package activation keeps every answer to a job on the activation it
// answers. Zeebe applies CompleteJob and FailJob to a job that is
// activatable or activated again, so an outcome that arrives twice (SNS and
// SQS deliver at least once, the fulfiller retries a call Zeebe may have
// applied, the returner races a function's outcome) would otherwise fail or
// complete a later run of the same job.
//
// An activation is named by its job key and its first deadline (the one the
// poller signed into the job's token). Two objects in the bridge's bucket
// keep the rule:
//
//   - claims/<job key>/<activation>: written once, with S3's conditional
//     put (If-None-Match: *), by the first final answer: the fulfiller before
//     it calls Zeebe, the returner before it publishes its hand-back. It names
//     its owner (the outcome's seal) and whether Zeebe has taken it. Any other
//     answer for that activation is a duplicate.
//   - activations/<job key>: the job's latest activation, written by the
//     poller before it publishes the job. It settles the one case the claim
//     cannot: the claim's own owner coming back after a call whose result is
//     unknown (DEADLINE_EXCEEDED, a crash): if the job has been activated
//     again, the earlier call was applied and this one must not be.
//
// The bucket's lifecycle rule removes both.
package activation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Prefixes of the guard's objects in the bucket.
const (
	PrefixClaims      = "claims/"
	PrefixActivations = "activations/"
)

// EnvBucket names the bucket of claims and activation records; without it
// the guard is off.
const EnvBucket = "ACTIVATION_BUCKET"

// S3 is the part of the S3 client the store uses.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Verdict says what an answer may do with its activation.
type Verdict int

// Verdicts of Claim.
const (
	// Fresh: the answer is the first for its activation and now owns it.
	Fresh Verdict = iota
	// Resume: the answer owns the activation from an earlier attempt that
	// did not finish, and the job has not been activated again since: it
	// may be sent again.
	Resume
	// Answered: another answer owns the activation, or this one has been
	// applied already, or the job has been activated again since: a
	// duplicate, never to reach Zeebe.
	Answered
)

func (v Verdict) String() string { return [...]string{"fresh", "resume", "answered"}[v] }

// Claim is the result of Store.Claim.
type Claim struct {
	Verdict Verdict
	// Why says, for Answered, which of the three it is.
	Why string
}

// States of a claim.
const (
	statePending = "pending" // claimed, Zeebe's answer not yet known
	stateApplied = "applied" // Zeebe took it (or no longer knew the job)
)

type claimRecord struct {
	Owner string `json:"owner"`
	State string `json:"state"`
	AtMs  int64  `json:"atMs"`
}

type activationRecord struct {
	Activation int64 `json:"activation"`
}

// Store keeps claims and activation records in one bucket.
type Store struct {
	API    S3
	Bucket string
	// Now stamps claims (for a person reading them); nil means time.Now.
	Now func() time.Time
}

// ClaimKey is the object key of an activation's claim.
func ClaimKey(jobKey, activation int64) string {
	return PrefixClaims + strconv.FormatInt(jobKey, 10) + "/" + strconv.FormatInt(activation, 10)
}

// ActivationKey is the object key of a job's latest activation.
func ActivationKey(jobKey int64) string { return PrefixActivations + strconv.FormatInt(jobKey, 10) }

// Of returns the activation an outcome answers: its token's deadline, or
// the deadline an asynchronous message names. ok is false for an unsigned
// synchronous outcome, which names none (job tokens off): the guard cannot
// apply to it.
func Of(o jobmsg.Outcome) (activation int64, ok bool) {
	switch {
	case o.Token != nil && o.Token.Deadline != 0:
		return o.Token.Deadline, true
	case o.Async && o.Deadline != 0:
		return o.Deadline, true
	}
	return 0, false
}

// Owner names an answer in its claim: its seal, which differs for any two
// answers of a signed job, or a digest of its content when it has none.
// The same outcome delivered twice has the same owner.
func Owner(o jobmsg.Outcome) string {
	if o.MAC != "" {
		return "mac:" + o.MAC
	}
	b, _ := json.Marshal(o) // plain fields and raw JSON: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Record notes that the job's latest activation is this one. The poller
// calls it before it publishes the job, so that no answer to the job's
// earlier activations can be resumed once a function may run this one.
func (s *Store) Record(ctx context.Context, jobKey, activation int64) error {
	b, _ := json.Marshal(activationRecord{Activation: activation})
	return s.put(ctx, ActivationKey(jobKey), b, false)
}

// Claim takes the activation for owner, or says why it cannot.
func (s *Store) Claim(ctx context.Context, jobKey, activation int64, owner string) (Claim, error) {
	b, _ := json.Marshal(claimRecord{Owner: owner, State: statePending, AtMs: s.now().UnixMilli()})
	err := s.put(ctx, ClaimKey(jobKey, activation), b, true)
	if err == nil {
		return Claim{Verdict: Fresh}, nil
	}
	if !errors.Is(err, errExists) {
		return Claim{}, err
	}
	var c claimRecord
	found, err := s.get(ctx, ClaimKey(jobKey, activation), &c)
	switch {
	case err != nil:
		return Claim{}, err
	case !found:
		// Written a moment ago and gone now: only a person deletes claims.
		return Claim{}, fmt.Errorf("claim s3://%s/%s existed on put and was gone on get: %w", s.Bucket, ClaimKey(jobKey, activation), ErrConflict)
	case c.Owner != owner:
		return Claim{Verdict: Answered, Why: "another answer to this activation came first"}, nil
	case c.State == stateApplied:
		return Claim{Verdict: Answered, Why: "this answer has been applied already"}, nil
	}
	var a activationRecord
	found, err = s.get(ctx, ActivationKey(jobKey), &a)
	switch {
	case err != nil:
		return Claim{}, err
	case found && a.Activation != activation:
		return Claim{Verdict: Answered, Why: "the job has been activated again since this answer's first attempt, so that attempt reached Zeebe"}, nil
	}
	return Claim{Verdict: Resume}, nil
}

// Settle marks the owner's claim as taken by Zeebe: any later delivery of
// the same answer is a duplicate without a look at the job's activations.
func (s *Store) Settle(ctx context.Context, jobKey, activation int64, owner string) error {
	b, _ := json.Marshal(claimRecord{Owner: owner, State: stateApplied, AtMs: s.now().UnixMilli()})
	return s.put(ctx, ClaimKey(jobKey, activation), b, false)
}

// Answered reports whether a final answer has claimed the activation. A
// heartbeat for it must then not reach Zeebe: the job it would extend may
// be a later activation.
func (s *Store) Answered(ctx context.Context, jobKey, activation int64) (bool, error) {
	var c claimRecord
	return s.get(ctx, ClaimKey(jobKey, activation), &c)
}

// PrefixReturns holds, per job, the activations the returner has handed
// back with their retries unchanged (returns/<job key>).
const PrefixReturns = "returns/"

// ReturnsKey is the object key of a job's record of returns.
func ReturnsKey(jobKey int64) string { return PrefixReturns + strconv.FormatInt(jobKey, 10) }

type returnsRecord struct {
	Activations []int64 `json:"activations"`
}

// Returns counts the job's activations, other than act, that the returner
// has handed back. Counting activations rather than deliveries keeps it
// true when one hand-back is attempted twice.
func (s *Store) Returns(ctx context.Context, jobKey, act int64) (int, error) {
	var r returnsRecord
	if _, err := s.get(ctx, ReturnsKey(jobKey), &r); err != nil {
		return 0, err
	}
	n := 0
	for _, a := range r.Activations {
		if a != act {
			n++
		}
	}
	return n, nil
}

// NoteReturn adds act to the job's record of returns. The returner calls it
// once it has claimed act: a job has one live activation at a time and the
// claim admits one hand-back for it, so no two writers race on the record
// and a plain read-then-write is enough.
func (s *Store) NoteReturn(ctx context.Context, jobKey, act int64) error {
	var r returnsRecord
	if _, err := s.get(ctx, ReturnsKey(jobKey), &r); err != nil {
		return err
	}
	if slices.Contains(r.Activations, act) {
		return nil
	}
	r.Activations = append(r.Activations, act)
	b, _ := json.Marshal(r)
	return s.put(ctx, ReturnsKey(jobKey), b, false)
}

// ErrConflict: S3 saw two conditional writes of one claim at once, or the
// claim changed under the store; trying again settles it.
var ErrConflict = errors.New("activation claim conflict")

// errExists: the conditional put found the object.
var errExists = errors.New("claim exists")

func (s *Store) put(ctx context.Context, key string, body []byte, ifNone bool) error {
	in := &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json")}
	if ifNone {
		in.IfNoneMatch = aws.String("*")
	}
	_, err := s.API.PutObject(ctx, in)
	var ae smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed":
		return errExists
	case errors.As(err, &ae) && ae.ErrorCode() == "ConditionalRequestConflict":
		return fmt.Errorf("put s3://%s/%s: %w: %w", s.Bucket, key, ErrConflict, err)
	default:
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, key, err)
	}
}

// get reads a small JSON object into v; found is false when it is missing.
func (s *Store) get(ctx context.Context, key string, v any) (found bool, err error) {
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	var nk *s3types.NoSuchKey
	if errors.As(err, &nk) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 4096))
	if err != nil {
		return false, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("s3://%s/%s is not the guard's record: %w", s.Bucket, key, err)
	}
	return true, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// FromEnv returns a store on the bucket ACTIVATION_BUCKET names, or nil
// when it names none.
func FromEnv(getenv func(string) string, awsCfg aws.Config) *Store {
	bucket := getenv(EnvBucket)
	if bucket == "" {
		return nil
	}
	return &Store{API: claimcheck.NewS3(getenv, awsCfg), Bucket: bucket}
}
