package returner

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
)

// Environment variables read by FromEnv.
const (
	// EnvBackoff is Handler.Backoff as a Go duration ("1s").
	EnvBackoff = "RETURN_BACKOFF"
	// EnvMaxReturns is Handler.MaxReturns.
	EnvMaxReturns = "MAX_RETURNS"
)

// FromEnv builds a Handler from ZEEBE_FULFILLER_SNS_ARN, RETURN_BACKOFF,
// MAX_RETURNS, LOG_LEVEL and the AWS SDK's default configuration chain.
func FromEnv(ctx context.Context, getenv envconfig.Getenv) (*Handler, error) {
	topic, err := getenv.OutcomeTopic()
	if err != nil {
		return nil, err
	}
	backoff, err := getenv.Duration(EnvBackoff, DefaultBackoff)
	if err != nil {
		return nil, err
	}
	maxReturns, err := getenv.Int(EnvMaxReturns, DefaultMaxReturns)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	h := &Handler{Publisher: snspub.New(sns.NewFromConfig(awsCfg)), OutcomeTopicARN: topic,
		Log: joblog.FromEnv(os.Stderr, getenv), Backoff: backoff, MaxReturns: maxReturns,
		Redelivery: sqsretry.New(sqs.NewFromConfig(awsCfg))}
	if guard := activation.FromEnv(getenv, awsCfg); guard != nil {
		h.Guard = guard
	}
	payloads, err := claimcheck.FromEnv(getenv, awsCfg)
	if err != nil {
		return nil, err
	}
	if payloads != nil {
		h.Payloads = payloads
	}
	return h, nil
}
