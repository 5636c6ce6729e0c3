// Command book-flight is the Lambda "book-flight" (BPMN task header identifier=book-flight).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(tripbooking.BookFlight) }
