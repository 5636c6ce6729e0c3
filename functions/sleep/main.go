// Command sleep is the Lambda "sleep" (BPMN task header identifier=sleep).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(chaos.Sleep) }
