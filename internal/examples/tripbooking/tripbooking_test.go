package tripbooking_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// handlers erases the result types so one table covers every handler.
func handlers() map[string]func(context.Context, tripbooking.Trip) (any, error) {
	return map[string]func(context.Context, tripbooking.Trip) (any, error){
		"book-hotel":    func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.BookHotel(ctx, t) },
		"book-car":      func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.BookCar(ctx, t) },
		"book-flight":   func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.BookFlight(ctx, t) },
		"cancel-hotel":  func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.CancelHotel(ctx, t) },
		"cancel-car":    func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.CancelCar(ctx, t) },
		"cancel-flight": func(ctx context.Context, t tripbooking.Trip) (any, error) { return tripbooking.CancelFlight(ctx, t) },
	}
}

func TestHandlers(t *testing.T) {
	// The variables the saga's later steps and the end-to-end tests read.
	want := map[string]string{
		"book-hotel":    `{"hotelBookingId":"HOTEL-t1"}`,
		"book-car":      `{"carBookingId":"CAR-t1"}`,
		"book-flight":   `{"flightBookingId":"FLIGHT-t1"}`,
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

type capture struct{ outcomes []jobmsg.Outcome }

func (c *capture) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		o, _ := jobmsg.DecodeOutcome(m.Body)
		c.outcomes = append(c.outcomes, o)
	}
	return make([]error, len(msgs))
}

// TestBookFlightThroughLambdakit runs BookFlight as its Lambda does and
// checks the outcome: a booking, or the BPMN error code that the model's
// boundary event catches to compensate car and hotel.
func TestBookFlightThroughLambdakit(t *testing.T) {
	tests := []struct {
		name string
		vars string
		want jobmsg.Outcome
	}{
		{"books", `{"tripId":"t1","destination":"Lisbon"}`,
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"flightBookingId":"FLIGHT-t1"}`)}},
		{"no seats", `{"tripId":"t1","failFlight":true,"destination":"Lisbon"}`,
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: tripbooking.ErrorFlightUnavailable,
				ErrorMessage: "no seats left on the flight to Lisbon", Variables: json.RawMessage(`{"flightFailureReason":"no seats"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &capture{}
			h, err := lambdakit.New(tripbooking.BookFlight, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn", Logger: joblog.Discard()})
			require.NoError(t, err)
			job, err := jobmsg.EncodeJob(jobmsg.Job{Key: 1, CustomHeaders: map[string]string{"identifier": "book-flight"}, Retries: 3,
				Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: json.RawMessage(tt.vars)})
			require.NoError(t, err)
			payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
			require.NoError(t, err)
			_, err = h.Invoke(context.Background(), payload)
			require.NoError(t, err)

			require.Len(t, pub.outcomes, 1)
			got := pub.outcomes[0]
			assert.Equal(t, tt.want.Outcome, got.Outcome)
			assert.Equal(t, tt.want.ErrorCode, got.ErrorCode)
			assert.Equal(t, tt.want.ErrorMessage, got.ErrorMessage)
			assert.JSONEq(t, string(tt.want.Variables), string(got.Variables))
		})
	}
}

// TestErrorCodeMatchesTheModel keeps BookFlight's error code and the error
// the BPMN's boundary event catches in step.
func TestErrorCodeMatchesTheModel(t *testing.T) {
	model, err := os.ReadFile("../../../bpmn/trip-booking.bpmn")
	require.NoError(t, err)
	assert.Contains(t, string(model), `errorCode="`+tripbooking.ErrorFlightUnavailable+`"`)
}
