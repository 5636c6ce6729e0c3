// Package catalog lists the example functions: their Lambda names (which
// are also their BPMN identifiers and directory names under functions/),
// timeouts and handlers. Deployment and the in-process test harness read it,
// so a function is declared once.
package catalog

import (
	"context"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// Function describes one example Lambda.
type Function struct {
	Name    string
	Timeout time.Duration
	New     func(cfg lambdakit.Config) (*lambdakit.Handler, error)
}

func fn[In, Out any](name string, timeout time.Duration, h func(context.Context, In) (Out, error)) Function {
	return Function{Name: name, Timeout: timeout, New: func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
		return lambdakit.New(h, cfg)
	}}
}

// TripBooking are the functions of bpmn/trip-booking.bpmn.
func TripBooking() []Function {
	return []Function{
		fn("book-hotel", 10*time.Second, tripbooking.BookHotel),
		fn("book-car", 10*time.Second, tripbooking.BookCar),
		fn("book-flight", 10*time.Second, tripbooking.BookFlight),
		fn("cancel-hotel", 10*time.Second, tripbooking.CancelHotel),
		fn("cancel-car", 10*time.Second, tripbooking.CancelCar),
		fn("cancel-flight", 10*time.Second, tripbooking.CancelFlight),
	}
}

// Chaos are the misbehaving functions of the end-to-end tests.
func Chaos() []Function {
	return []Function{
		fn("always-fail", 10*time.Second, chaos.AlwaysFail),
		fn("panic", 10*time.Second, chaos.Panic),
		fn("sleep", 5*time.Second, chaos.Sleep),
	}
}

// All lists every example function.
func All() []Function { return append(TripBooking(), Chaos()...) }

// ByName finds a function.
func ByName(name string) (Function, bool) {
	for _, f := range All() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}
