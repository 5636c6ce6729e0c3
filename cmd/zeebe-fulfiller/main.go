// Command zeebe-fulfiller is the fulfiller Lambda, triggered by the
// zeebe_jobs2complete queue with ReportBatchItemFailures.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
)

func main() {
	h, _, err := fulfiller.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fulfiller:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
