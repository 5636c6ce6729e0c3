package completion

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Request is the body a system that is not written in Go posts to the
// callback function's URL:
//
//	{"token": "zlb1....", "outcome": "complete", "variables": {"approved": true}}
//	{"token": "zlb1....", "outcome": "fail", "errorMessage": "scanner offline", "retryBackoffSeconds": 30}
//	{"token": "zlb1....", "outcome": "error", "errorCode": "REJECTED", "errorMessage": "..."}
//	{"token": "zlb1....", "outcome": "heartbeat", "timeoutSeconds": 900}
type Request struct {
	Token               string          `json:"token"`
	Outcome             jobmsg.Kind     `json:"outcome"`
	Variables           json.RawMessage `json:"variables,omitempty"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RetryBackoffSeconds float64         `json:"retryBackoffSeconds,omitempty"`
	TimeoutSeconds      float64         `json:"timeoutSeconds,omitempty"`
}

// Callback is the callback function: it turns a POST to its function URL
// into a call of Client. It answers 202 once the outcome is published (the
// fulfiller applies it moments later, or acknowledges it as a duplicate if
// the activation has ended), 400 for a request it cannot use, and 502 when
// SNS did not take the outcome, which is worth sending again.
type Callback struct {
	Client *Client
	Log    *slog.Logger
}

// Handle is the Lambda handler for function URL requests.
func (cb *Callback) Handle(ctx context.Context, r events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	if r.RequestContext.HTTP.Method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, "POST a JSON body: {\"token\": ..., \"outcome\": \"complete\"|\"fail\"|\"error\"|\"heartbeat\", ...}"), nil
	}
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return answer(http.StatusBadRequest, "the body is not valid base64"), nil
		}
		body = b
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return answer(http.StatusBadRequest, "the body is not a JSON request: "+err.Error()), nil
	}
	t, err := Parse(req.Token)
	if err != nil {
		return answer(http.StatusBadRequest, err.Error()), nil
	}
	log := joblog.ForJob(cb.Log, t.JobKey, t.ProcessInstanceKey).With("outcome", string(req.Outcome))
	if err := cb.call(ctx, req); err != nil {
		if errors.Is(err, ErrBadRequest) || errors.Is(err, ErrBadToken) || errors.Is(err, jobmsg.ErrMalformed) || errors.Is(err, jobmsg.ErrTooLarge) {
			log.Warn("callback refused", "error", err)
			return answer(http.StatusBadRequest, err.Error()), nil
		}
		log.Error("callback could not publish the outcome", "error", err)
		return answer(http.StatusBadGateway, "the outcome was not published, send it again: "+err.Error()), nil
	}
	log.Info("callback published the outcome")
	return answer(http.StatusAccepted, "published"), nil
}

func (cb *Callback) call(ctx context.Context, req Request) error {
	// Absent variables encode as null, which object takes for none.
	switch req.Outcome {
	case jobmsg.Complete:
		return cb.Client.Complete(ctx, req.Token, req.Variables)
	case jobmsg.Fail:
		return cb.Client.Fail(ctx, req.Token, req.ErrorMessage, seconds(req.RetryBackoffSeconds))
	case jobmsg.Error:
		return cb.Client.ThrowError(ctx, req.Token, req.ErrorCode, req.ErrorMessage, req.Variables)
	case jobmsg.Heartbeat:
		return cb.Client.Heartbeat(ctx, req.Token, seconds(req.TimeoutSeconds))
	default:
		return fmt.Errorf("%w: outcome %q: use complete, fail, error or heartbeat", ErrBadRequest, req.Outcome)
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func answer(status int, message string) events.LambdaFunctionURLResponse {
	b, _ := json.Marshal(map[string]string{"message": message})
	return events.LambdaFunctionURLResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}
