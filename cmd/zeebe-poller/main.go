// Command zeebe-poller is the poller as a Lambda on an EventBridge schedule:
// each invocation activates and publishes jobs until shortly before its
// timeout (up to 15 minutes), and the next scheduled run takes over.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

func main() {
	// Clients are built once per cold start and reused by every invocation.
	svc, err := poller.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poller:", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (poller.Stats, error) {
		return svc.Run(ctx)
	})
}
