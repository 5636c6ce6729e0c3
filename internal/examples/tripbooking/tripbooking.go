// Package tripbooking holds the example Lambdas of the trip-booking saga in
// bpmn/trip-booking.bpmn: book a hotel, a car and a flight, and cancel each
// of them when the saga is compensated. They are plain handlers; lambdakit
// makes them Zeebe tasks.
package tripbooking

import (
	"context"
	"errors"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// Trip is the input of every handler: the process variables they read.
type Trip struct {
	TripID      string `json:"tripId"`
	Customer    string `json:"customer"`
	Destination string `json:"destination"`
	// FailFlight makes BookFlight report that no seat is available, so the
	// saga compensates the car and hotel bookings.
	FailFlight bool `json:"failFlight"`
}

// ErrNoTrip is returned when the process did not pass a tripId.
var ErrNoTrip = errors.New("tripbooking: the process variable tripId is missing")

// ErrorFlightUnavailable is the BPMN error code BookFlight throws; the model's
// error boundary event catches it.
const ErrorFlightUnavailable = "FLIGHT_UNAVAILABLE"

// HotelBooking is BookHotel's result.
type HotelBooking struct {
	HotelBookingID string `json:"hotelBookingId"`
}

// CarBooking is BookCar's result.
type CarBooking struct {
	CarBookingID string `json:"carBookingId"`
}

// FlightBooking is BookFlight's result.
type FlightBooking struct {
	FlightBookingID string `json:"flightBookingId"`
}

// BookHotel books a hotel room. Booking ids derive from the trip id, so a
// retried or duplicated call books the same room again (idempotent).
func BookHotel(_ context.Context, t Trip) (HotelBooking, error) {
	if t.TripID == "" {
		return HotelBooking{}, ErrNoTrip
	}
	return HotelBooking{HotelBookingID: "HOTEL-" + t.TripID}, nil
}

// BookCar books a rental car.
func BookCar(_ context.Context, t Trip) (CarBooking, error) {
	if t.TripID == "" {
		return CarBooking{}, ErrNoTrip
	}
	return CarBooking{CarBookingID: "CAR-" + t.TripID}, nil
}

// BookFlight books the flight, or throws FLIGHT_UNAVAILABLE when the trip
// asks for the flight to fail.
func BookFlight(_ context.Context, t Trip) (FlightBooking, error) {
	if t.TripID == "" {
		return FlightBooking{}, ErrNoTrip
	}
	if t.FailFlight {
		return FlightBooking{}, lambdakit.BPMNError(ErrorFlightUnavailable, "no seats left on the flight to "+t.Destination,
			map[string]any{"flightFailureReason": "no seats"})
	}
	return FlightBooking{FlightBookingID: "FLIGHT-" + t.TripID}, nil
}

// HotelCancellation is CancelHotel's result.
type HotelCancellation struct {
	HotelCancelled bool `json:"hotelCancelled"`
}

// CarCancellation is CancelCar's result.
type CarCancellation struct {
	CarCancelled bool `json:"carCancelled"`
}

// FlightCancellation is CancelFlight's result.
type FlightCancellation struct {
	FlightCancelled bool `json:"flightCancelled"`
}

// CancelHotel cancels the hotel booking (compensation of BookHotel).
func CancelHotel(_ context.Context, t Trip) (HotelCancellation, error) {
	if t.TripID == "" {
		return HotelCancellation{}, ErrNoTrip
	}
	return HotelCancellation{HotelCancelled: true}, nil
}

// CancelCar cancels the car booking (compensation of BookCar).
func CancelCar(_ context.Context, t Trip) (CarCancellation, error) {
	if t.TripID == "" {
		return CarCancellation{}, ErrNoTrip
	}
	return CarCancellation{CarCancelled: true}, nil
}

// CancelFlight cancels the flight booking, for processes that compensate it.
func CancelFlight(_ context.Context, t Trip) (FlightCancellation, error) {
	if t.TripID == "" {
		return FlightCancellation{}, ErrNoTrip
	}
	return FlightCancellation{FlightCancelled: true}, nil
}
