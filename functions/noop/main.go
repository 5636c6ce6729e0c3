// Command noop is the Lambda "noop" (BPMN task header identifier=noop): it
// does nothing, so that the benchmark (make bench) measures the bridge alone.
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(chaos.Noop) }
