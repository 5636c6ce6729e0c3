package tripbooking_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
)

// handlers erases the result types so one table covers every handler.
func handlers() map[string]func(context.Context, tripbooking.Trip) (any, error) {
	return map[string]func(context.Context, tripbooking.Trip) (any, error){
		"book-hotel":    func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.BookHotel(ctx, t) },
		"cancel-hotel":  func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.CancelHotel(ctx, t) },
		"cancel-car":    func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.CancelCar(ctx, t) },
		"cancel-flight": func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.CancelFlight(ctx, t) },
	}
}

func TestHandlers(t *testing.T) {
	// The variables the saga's later steps and the end-to-end tests read.
	want := map[string]string{
		"book-hotel":    `{"hotelBookingId":"HOTEL-t1"}`,
		"cancel-hotel":  `{"hotelCancelled":true}`,
		"cancel-car":    `{"carCancelled":true}`,
		"cancel-flight": `{"flightCancelled":true}`,
	}
	trip := tripbooking.Trip{TripID: "t1", Customer: "Ada", Destination: "Lisbon"}
	for name, h := range handlers() {
		t.Run(name, func(t *testing.T) {
			out, err := h(context.Background(), trip)
			require.NoError(t, err)
			b, err := json.Marshal(out)
			require.NoError(t, err)
			assert.JSONEq(t, want[name], string(b))

			again, err := h(context.Background(), trip)
			require.NoError(t, err)
			assert.Equal(t, out, again, "deterministic, so a retried or duplicated job gives the same answer")

			_, err = h(context.Background(), tripbooking.Trip{Destination: "Lisbon"})
			require.ErrorIs(t, err, tripbooking.ErrNoTrip)
		})
	}
}

// TestErrorCodeMatchesTheModel keeps the error code book-flight (Node.js)
// throws and the error the BPMN's boundary event catches in step.
func TestErrorCodeMatchesTheModel(t *testing.T) {
	model, err := os.ReadFile("../../../bpmn/trip-booking.bpmn")
	require.NoError(t, err)
	fn, err := os.ReadFile("../../../functions/book-flight/index.mjs")
	require.NoError(t, err)
	const code = "FLIGHT_UNAVAILABLE"
	assert.Contains(t, string(model), `errorCode="`+code+`"`)
	assert.Contains(t, string(fn), `new BpmnError("`+code+`"`)
}
