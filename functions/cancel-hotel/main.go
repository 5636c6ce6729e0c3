// Command cancel-hotel is the Lambda "cancel-hotel" (BPMN task header identifier=cancel-hotel).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(tripbooking.CancelHotel) }
