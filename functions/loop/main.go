// Command loop is the Lambda "loop" (BPMN task header identifier=loop) of
// bpmn/echo-loop.bpmn: it counts turns and injects the faults its input asks
// for, for the soak test. Its handler and publisher come from the catalog,
// so tests build the same thing.
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
	f, _ := catalog.ByName("loop")
	return f.New(cfg)
}
