// Command long-work-finish is the Lambda fed by the long-work queue: the
// system that does the work of bpmn/long-work.bpmn, heartbeats while it goes
// on and completes the job through its completion token (package
// internal/examples/longwork). It is a plain Lambda, not a Zeebe-ready one.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/longwork"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
)

func main() {
	w, err := worker(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "long-work-finish:", err)
		os.Exit(1)
	}
	lambda.Start(w.Finish)
}

func worker(ctx context.Context, getenv envconfig.Getenv) (*longwork.Worker, error) {
	url, err := getenv.Required(longwork.EnvQueueURL, "the URL of the long-work queue")
	if err != nil {
		return nil, err
	}
	c, err := completion.FromEnv(ctx, getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	return &longwork.Worker{Queue: sqs.NewFromConfig(awsCfg), QueueURL: url, Completer: c, Log: joblog.New(os.Stderr, false)}, nil
}
