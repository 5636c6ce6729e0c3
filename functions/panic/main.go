// Command panic is the Lambda "panic" (BPMN task header identifier=panic).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(chaos.Panic) }
