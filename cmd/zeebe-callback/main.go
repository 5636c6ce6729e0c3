// Command zeebe-callback is the callback function: behind its function URL,
// systems that are not written in Go complete, fail, throw on or heartbeat a
// pending job with its completion token (completion.Callback). With
// JOB_TOKEN_SECRET_ARN it checks each token's signature before it writes or
// publishes anything.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
)

func main() {
	ctx := context.Background()
	log := joblog.FromEnv(os.Stderr, os.Getenv)
	c, err := completion.FromEnv(ctx, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "callback:", err)
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "callback: load the AWS configuration:", err)
		os.Exit(1)
	}
	if keys := jobtoken.KeysFromEnv(os.Getenv, secretsmanager.NewFromConfig(awsCfg)); keys != nil {
		c.Verifier = jobtoken.Verifier{Keys: keys}
	} else {
		log.Warn("job tokens are off (" + jobtoken.EnvSecretARN + " unset): requests are published without checking their token; the fulfiller applies only what it can check")
	}
	cb := &completion.Callback{Client: c, Log: log}
	lambda.Start(cb.Handle)
}
