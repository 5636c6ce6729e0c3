// Command book-hotel is the Lambda "book-hotel" (BPMN task header identifier=book-hotel).
package main

import (
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func main() { lambdakit.Start(tripbooking.BookHotel) }
