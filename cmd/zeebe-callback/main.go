// Command zeebe-callback is the callback function: behind its function URL,
// systems that are not written in Go complete, fail, throw on or heartbeat a
// pending job with its completion token (completion.Callback).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
)

func main() {
	c, err := completion.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "callback:", err)
		os.Exit(1)
	}
	cb := &completion.Callback{Client: c, Log: joblog.FromEnv(os.Stderr, os.Getenv)}
	lambda.Start(cb.Handle)
}
