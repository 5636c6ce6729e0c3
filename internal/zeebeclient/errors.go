package zeebeclient

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsNotFound reports whether Zeebe answered NOT_FOUND: the job (or whatever
// the command named) does not exist anymore, typically because another
// command already completed, failed or timed it out.
func IsNotFound(err error) bool {
	return err != nil && status.Code(err) == codes.NotFound
}

// IsTransient reports whether sending the same command again later may
// succeed: the gateway or engine was unreachable, overloaded (backpressure)
// or too slow, our own context ran out, or the credentials were refused
// (IsCredentials: during a rotation they become good again, and the client
// re-reads the secret). Everything else, such as INVALID_ARGUMENT or
// FAILED_PRECONDITION, is a rejection that a retry of the same command would
// only repeat.
//
// The decision is made on the gRPC status code alone, never on the text.
// INTERNAL counts as transient because the gateway also reports engine-side
// hiccups (leader changes, restarts) with it; callers that retry must bound
// their retries (the fulfiller's queue has a maxReceiveCount and a DLQ).
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted,
		codes.Aborted, codes.Canceled, codes.Internal,
		codes.Unauthenticated, codes.PermissionDenied:
		return true
	}
	return false
}

// IsCredentials reports whether Zeebe (or the token endpoint, through the
// credentials provider) refused the client's credentials: UNAUTHENTICATED or
// PERMISSION_DENIED. It is transient (see IsTransient); callers name the
// credentials in their log line so that an operator looks there.
func IsCredentials(err error) bool {
	c := status.Code(err)
	return c == codes.Unauthenticated || c == codes.PermissionDenied
}

// IsInvalidState reports whether Zeebe answered FAILED_PRECONDITION: the
// job exists but is not in a state the command applies to (a timeout update
// for a job that is no longer activated, because it timed out or failed).
func IsInvalidState(err error) bool {
	return err != nil && status.Code(err) == codes.FailedPrecondition
}
