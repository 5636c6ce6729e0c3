// Command long-work is the Lambda "long-work" (BPMN task header
// identifier=long-work) of bpmn/long-work.bpmn: it starts work that outlives
// its invocation and answers pending (package functions/longwork). Its
// handler comes from the catalog, so tests build the same thing.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() {
	h, err := handler()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdakit: "+strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(1)
	}
	lambda.Start(h)
}

func handler() (*lambdakit.Handler, error) {
	cfg, err := lambdakit.ConfigFromEnv(context.Background(), os.Getenv)
	if err != nil {
		return nil, err
	}
	f, _ := catalog.ByName("long-work")
	return f.New(cfg)
}
