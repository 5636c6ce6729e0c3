// Command zeebe-returner is the returner Lambda, triggered by every function
// DLQ with ReportBatchItemFailures: it hands dead-lettered jobs back to Zeebe.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/returner"
)

func main() {
	h, err := returner.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "returner:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
