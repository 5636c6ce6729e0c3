// Command always-fail is the Lambda "always-fail" (BPMN task header identifier=always-fail).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(chaos.AlwaysFail) }
