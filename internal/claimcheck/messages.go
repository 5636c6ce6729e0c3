package claimcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// The two rules every participant follows with a contract message: a sender
// encodes it and offloads it above the threshold (EncodeJob, EncodeOutcome);
// a receiver unwraps the record, resolves a pointer and decodes it (ReadJob,
// ReadOutcome). Each participant reacts to the failures in its own way, so
// these classify them and leave the reaction to the caller.

// Offloader stores a message's body when it is above a threshold and returns
// the message that points at it (*Store).
type Offloader interface {
	Offload(ctx context.Context, key string, m jobmsg.Message) (jobmsg.Message, bool, error)
}

// Resolver returns the payload a pointer body stands for, or the body itself
// when it is not a pointer (*Store).
type Resolver interface {
	Resolve(ctx context.Context, body []byte) ([]byte, *Pointer, error)
}

// Deleter removes an offloaded payload once it has served (*Store).
type Deleter interface {
	Delete(ctx context.Context, p Pointer) error
}

// Receiver is what a receiver of messages needs: it resolves a pointer, and
// deletes the payload once the message has served (*Store).
type Receiver interface {
	Resolver
	Deleter
}

// Payloads is both sides of the claim check (*Store).
type Payloads interface {
	Offloader
	Receiver
}

// ErrOffload marks an error of the store itself (S3 refused or failed), as
// opposed to a message no store can carry.
var ErrOffload = errors.New("offload the payload")

// offloadError keeps the store's text while answering errors.Is(err, ErrOffload).
type offloadError struct{ err error }

func (e offloadError) Error() string   { return e.err.Error() }
func (e offloadError) Unwrap() []error { return []error{ErrOffload, e.err} }

// EncodeJob encodes j and, with o, offloads it above o's threshold under
// jobs/<identifier>/<job key>-<deadline>.json. Without o, or when the store
// fails (errors.Is(err, ErrOffload)), a message above SNS's limit is
// jobmsg.ErrTooLarge.
func EncodeJob(ctx context.Context, o Offloader, j jobmsg.Job) (m jobmsg.Message, offloaded bool, err error) {
	m, err = jobmsg.EncodeJob(j)
	return offload(ctx, o, Key(PrefixJobs, j.Identifier(), j.Key, j.Deadline), m, err)
}

// EncodeOutcome encodes out, the outcome of the activation (identifier, job
// key, deadline), and offloads it as EncodeJob does, under outcomes/.
func EncodeOutcome(ctx context.Context, o Offloader, identifier string, jobKey, deadline int64, out jobmsg.Outcome) (m jobmsg.Message, offloaded bool, err error) {
	m, err = jobmsg.EncodeOutcome(out)
	return offload(ctx, o, Key(PrefixOutcomes, identifier, jobKey, deadline), m, err)
}

func offload(ctx context.Context, o Offloader, key string, m jobmsg.Message, err error) (jobmsg.Message, bool, error) {
	// An encoding above SNS's limit still carries its body: the store can
	// take it.
	if o == nil || (err != nil && !errors.Is(err, jobmsg.ErrTooLarge)) {
		return m, false, err
	}
	out, offloaded, oerr := o.Offload(ctx, key, m)
	switch {
	case oerr != nil:
		return jobmsg.Message{}, false, offloadError{oerr}
	case offloaded:
		return out, true, nil
	default:
		return out, false, err
	}
}

// ErrNoStore: a record carries a claim-check pointer but the receiver has no
// store to resolve it with (no PAYLOAD_BUCKET).
var ErrNoStore = errors.New("the message's payload is in S3, but no payload bucket is configured")

// Received is a contract message read from an SQS record. Body and
// Attributes are set even when reading failed; the keys only then, for the
// log lines (the message has them otherwise).
type Received[T any] struct {
	Message T
	// Body is the message, out of its SNS envelope and, when it pointed at
	// S3, resolved; the pointer itself when it could not be.
	Body []byte
	// Attributes are the message attributes, from the envelope or the record.
	Attributes map[string]string
	// Payload is the offloaded payload that was read, to delete once the
	// message has served; nil when the message was inline.
	Payload *Pointer
	// JobKey and ProcessInstanceKey, as far as the body gives them.
	JobKey, ProcessInstanceKey int64
}

// ReadJob reads the job message r carries. Classify tells its errors apart:
// the payload is gone, cannot be read now, has no store to be read with, or
// the body is not a message of a contract version this build speaks.
func ReadJob(ctx context.Context, r events.SQSMessage, res Resolver) (Received[jobmsg.Job], error) {
	return read(ctx, r, res, PrefixJobs, jobmsg.DecodeJob)
}

// ReadOutcome reads the outcome message r carries, as ReadJob does.
func ReadOutcome(ctx context.Context, r events.SQSMessage, res Resolver) (Received[jobmsg.Outcome], error) {
	return read(ctx, r, res, PrefixOutcomes, jobmsg.DecodeOutcome)
}

// ReadBody resolves and decodes a message already out of its record, for a
// reader that is not a Lambda (the operator's tool). A pointer must name a key
// under prefix (PrefixJobs, PrefixOutcomes), where the bridge writes that
// kind of message.
func ReadBody[T any](ctx context.Context, body []byte, attrs map[string]string, res Resolver, prefix string, decode func([]byte) (T, error)) (Received[T], error) {
	in := Received[T]{Body: body, Attributes: attrs}
	if p, ok := Parse(body); ok && !strings.HasPrefix(p.Key, prefix+"/") {
		return in, fmt.Errorf("%w: s3://%s/%s is not under %s/, where the bridge puts these messages", ErrRefused, p.Bucket, p.Key, prefix)
	}
	if res == nil {
		if _, ok := Parse(body); ok {
			return in, ErrNoStore
		}
	} else {
		payload, p, err := res.Resolve(ctx, body)
		if err != nil {
			// A pointer holds no keys.
			return in, err
		}
		in.Body, in.Payload = payload, p
	}
	var err error
	if in.Message, err = decode(in.Body); err != nil {
		in.JobKey, in.ProcessInstanceKey = jobmsg.PeekKeys(in.Body)
		return in, decodeError{err}
	}
	return in, nil
}

// decodeError marks an error of the decoding, whatever it wraps, while
// keeping its text.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }
func (e decodeError) Unwrap() error { return e.err }

func read[T any](ctx context.Context, r events.SQSMessage, res Resolver, prefix string, decode func([]byte) (T, error)) (Received[T], error) {
	body, attrs := jobmsg.UnwrapRecord(r)
	return ReadBody(ctx, body, attrs, res, prefix, decode)
}

// Unreadable says why a message could not be read, in the terms every
// receiver decides by.
type Unreadable int

const (
	// Readable: no error.
	Readable Unreadable = iota
	// PayloadGone: the offloaded payload no longer exists.
	PayloadGone
	// PayloadUnavailable: the payload could not be read now; a retry may work.
	PayloadUnavailable
	// PointerRefused: a pointer the bridge never writes (ErrRefused).
	PointerRefused
	// NoStore: a pointer, but no store configured.
	NoStore
	// Malformed: not a message of the contract.
	Malformed
	// UnsupportedVersion: a contract version this build does not speak.
	UnsupportedVersion
)

// Classify maps an error of ReadJob, ReadOutcome or ReadBody to its class.
func Classify(err error) Unreadable {
	switch {
	case err == nil:
		return Readable
	case errors.As(err, new(decodeError)):
		if errors.Is(err, jobmsg.ErrUnsupportedVersion) {
			return UnsupportedVersion
		}
		return Malformed
	case errors.Is(err, ErrNotFound):
		return PayloadGone
	case errors.Is(err, ErrRefused):
		return PointerRefused
	case errors.Is(err, ErrNoStore):
		return NoStore
	default:
		return PayloadUnavailable
	}
}
