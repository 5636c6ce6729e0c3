// Command cancel-flight is the Lambda "cancel-flight" (BPMN task header identifier=cancel-flight).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(tripbooking.CancelFlight) }
