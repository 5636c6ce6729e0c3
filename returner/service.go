package returner

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/redelivery"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
)

// EnvBackoff is Handler.Backoff as a Go duration ("1s").
const EnvBackoff = "RETURN_BACKOFF"

// FromEnv builds a Handler on the real Zeebe client, configured by the Zeebe
// client's variables (ZEEBE_ADDRESS, ZEEBE_CLIENT_ID, ZEEBE_CLIENT_SECRET or
// ZEEBE_CLIENT_SECRET_ARN, ...) and RETURN_BACKOFF. Close the returned client
// when done.
func FromEnv(ctx context.Context, getenv envconfig.Getenv) (*Handler, *zeebeclient.Client, error) {
	backoff, err := getenv.Duration(EnvBackoff, DefaultBackoff)
	if err != nil {
		return nil, nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	zb, err := zeebeclient.NewFromAWS(ctx, getenv, awsCfg)
	if err != nil {
		return nil, nil, err
	}
	h := &Handler{Zeebe: zb, Log: joblog.New(os.Stderr, getenv("LOG_LEVEL") == "debug"), Backoff: backoff,
		Redelivery: redelivery.New(sqs.NewFromConfig(awsCfg))}
	return h, zb, nil
}
