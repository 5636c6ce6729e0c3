// Command echo is the Lambda "echo" (BPMN task header identifier=echo).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// Its queue also takes the tests' business events (lambdakit.WithEvents).
func main() { lambdakit.Start(chaos.Echo, lambdakit.WithEvents(chaos.Event)) }
