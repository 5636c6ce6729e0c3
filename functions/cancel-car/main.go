// Command cancel-car is the Lambda "cancel-car" (BPMN task header identifier=cancel-car).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(tripbooking.CancelCar) }
