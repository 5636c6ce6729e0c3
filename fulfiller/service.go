package fulfiller

import (
	"context"
	"fmt"
	"os"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/heartbeatlease"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
)

// FromEnv builds a Handler on the real Zeebe client, configured by the Zeebe
// client's variables (ZEEBE_ADDRESS, ZEEBE_CLIENT_ID, ZEEBE_CLIENT_SECRET or
// ZEEBE_CLIENT_SECRET_ARN, ...). Close the returned client when done.
func FromEnv(ctx context.Context, getenv envconfig.Getenv) (*Handler, *zeebeclient.Client, error) {
	memoryMB, err := getenv.Int(EnvMemorySize, 0)
	if err != nil {
		return nil, nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	log := joblog.FromEnv(os.Stderr, getenv)
	zb, err := zeebeclient.NewFromAWS(ctx, getenv, awsCfg, zeebeclient.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	h := New(zb, log)
	h.Redelivery = sqsretry.New(sqs.NewFromConfig(awsCfg))
	h.LargeAtOnce = LargeAtOnceFor(memoryMB)
	if h.TracerProvider, err = tracing.FromEnv(ctx, getenv, "zeebe-fulfiller", secretsmanager.NewFromConfig(awsCfg)); err != nil {
		return nil, nil, err
	}
	payloads, err := claimcheck.FromEnv(getenv, awsCfg)
	if err != nil {
		return nil, nil, err
	}
	if payloads != nil {
		h.Payloads = payloads
	}
	if leases := heartbeatlease.FromEnv(getenv, awsCfg); leases != nil {
		h.Leases = leases
	} else {
		h.Log.Warn("asynchronous completion without heartbeats: " + heartbeatlease.EnvBucket + " is not set, so heartbeats are refused")
	}
	if guard := activation.FromEnv(getenv, awsCfg); guard != nil {
		h.Guard = guard
	} else {
		h.Log.Warn("the activation guard is off: " + activation.EnvBucket + " is not set, so a duplicate outcome can reach a later activation of its job")
	}
	if keys := jobtoken.KeysFromEnv(getenv, secretsmanager.NewFromConfig(awsCfg)); keys != nil {
		h.Verifier = jobtoken.Verifier{Keys: keys}
	} else {
		h.Log.Warn("job tokens are off: " + jobtoken.EnvSecretARN + " is not set, so every outcome is applied unchecked")
	}
	return h, zb, nil
}

// EnvMemorySize is the function's memory in MB, which Lambda sets.
const EnvMemorySize = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
