package tripbooking_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func TestBookings(t *testing.T) {
	ctx := context.Background()
	trip := tripbooking.Trip{TripID: "t1", Destination: "Lisbon"}

	h, err := tripbooking.BookHotel(ctx, trip)
	require.NoError(t, err)
	assert.Equal(t, "HOTEL-t1", h.HotelBookingID)
	c, err := tripbooking.BookCar(ctx, trip)
	require.NoError(t, err)
	assert.Equal(t, "CAR-t1", c.CarBookingID)
	f, err := tripbooking.BookFlight(ctx, trip)
	require.NoError(t, err)
	assert.Equal(t, "FLIGHT-t1", f.FlightBookingID)

	for _, cancel := range []func() (any, error){
		func() (any, error) { return tripbooking.CancelHotel(ctx, trip) },
		func() (any, error) { return tripbooking.CancelCar(ctx, trip) },
		func() (any, error) { return tripbooking.CancelFlight(ctx, trip) },
	} {
		out, err := cancel()
		require.NoError(t, err)
		b, _ := json.Marshal(out)
		assert.Contains(t, string(b), "Cancelled\":true")
	}

	_, err = tripbooking.BookHotel(ctx, tripbooking.Trip{})
	require.ErrorIs(t, err, tripbooking.ErrNoTrip)
}

type capture struct{ outcomes []jobmsg.Outcome }

func (c *capture) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		o, _ := jobmsg.DecodeOutcome(m.Body)
		c.outcomes = append(c.outcomes, o)
	}
	return make([]error, len(msgs))
}

// TestFailedFlightThrowsTheModelsBPMNError runs BookFlight through lambdakit
// as the Lambda does and checks the outcome carries the error code that the
// model's boundary event catches.
func TestFailedFlightThrowsTheModelsBPMNError(t *testing.T) {
	pub := &capture{}
	h, err := lambdakit.New(tripbooking.BookFlight, lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn", Logger: joblog.Discard()})
	require.NoError(t, err)
	job, err := jobmsg.EncodeJob(jobmsg.Job{Key: 1, CustomHeaders: map[string]string{"identifier": "book-flight"}, Retries: 3,
		Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: json.RawMessage(`{"tripId":"t1","failFlight":true,"destination":"Lisbon"}`)})
	require.NoError(t, err)
	payload, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
	_, err = h.Invoke(context.Background(), payload)
	require.NoError(t, err)

	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, jobmsg.Error, pub.outcomes[0].Outcome)
	assert.Equal(t, "FLIGHT_UNAVAILABLE", pub.outcomes[0].ErrorCode)
	assert.Contains(t, pub.outcomes[0].ErrorMessage, "Lisbon")
}
