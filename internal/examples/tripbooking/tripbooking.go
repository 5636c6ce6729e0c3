// Package tripbooking holds the Go example Lambdas of the trip-booking saga
// in bpmn/trip-booking.bpmn: book a hotel, and cancel the hotel, the car and
// the flight when the saga is compensated. They are plain handlers; lambdakit
// makes them Zeebe tasks. The saga's two other functions show the other
// runtimes: book-car is Python (functions/book-car/app.py) and book-flight
// Node.js (functions/book-flight/index.mjs), run by the bridge's layer.
package tripbooking

import (
	"context"
	"errors"
)

// Trip is the input of every handler: the process variables they read.
type Trip struct {
	TripID      string `json:"tripId"`
	Customer    string `json:"customer"`
	Destination string `json:"destination"`
	// FailFlight makes book-flight report that no seat is available, so the
	// saga compensates the car and hotel bookings.
	FailFlight bool `json:"failFlight"`
}

// ErrNoTrip is returned when the process did not pass a tripId.
var ErrNoTrip = errors.New("tripbooking: the process variable tripId is missing")

// HotelBooking is BookHotel's result.
type HotelBooking struct {
	HotelBookingID string `json:"hotelBookingId"`
}

// BookHotel books a hotel room. Booking ids derive from the trip id, so a
// retried or duplicated call books the same room again (idempotent).
func BookHotel(_ context.Context, t Trip) (HotelBooking, error) {
	if t.TripID == "" {
		return HotelBooking{}, ErrNoTrip
	}
	return HotelBooking{HotelBookingID: "HOTEL-" + t.TripID}, nil
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
