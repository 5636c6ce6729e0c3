//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview/viewtest"
)

// processViewURL is the view the stack's engine serves: $PROCESS_VIEW_URL
// (the Makefile sets it), or port 8088 shifted by STACK_PORT_OFFSET.
func processViewURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("PROCESS_VIEW_URL"); u != "" {
		return u
	}
	offset := 0
	if o := os.Getenv("STACK_PORT_OFFSET"); o != "" {
		var err error
		offset, err = strconv.Atoi(o)
		require.NoError(t, err, "STACK_PORT_OFFSET")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", 8088+offset)
}

// processViewShowsTheTrips opens the process view in headless Chromium for
// the completed trip, the compensated trip and the function that always
// fails (an incident, in a model deployed without a diagram), and checks
// from the page itself, its DOM and a screenshot, the marked elements, the
// run counts, the variables, the incident's message and a Lambda task's log
// lines read from LocalStack's CloudWatch Logs.
func processViewShowsTheTrips(ctx context.Context, t *testing.T, completed, compensated, alwaysFail int64) {
	_, err := viewtest.Chromium()
	require.NoError(t, err)
	base := processViewURL(t)
	published := `"msg":"outcome published"`
	tests := []struct {
		name string
		key  int64
		want viewtest.Want
	}{
		{
			name: "the completed trip", key: completed,
			want: viewtest.Want{
				State: "completed",
				Elements: map[string]string{"StartEvent_TripRequested": "completed", "Task_BookHotel": "completed",
					"Task_BookCar": "completed", "Task_BookFlight": "completed", "EndEvent_TripBooked": "completed"},
				Runs:      map[string]string{"Task_BookHotel": "1", "Task_BookCar": "1", "Task_BookFlight": "1"},
				Pixels:    []string{"Task_BookHotel", "Task_BookCar", "Task_BookFlight", "EndEvent_TripBooked"},
				Variables: map[string]string{"destination": `"Lisbon"`, "failFlight": "false"},
				LogsOf:    "Task_BookFlight", LogLine: published,
			},
		},
		{
			name: "the compensated trip", key: compensated,
			want: viewtest.Want{
				State: "completed",
				Elements: map[string]string{"Task_BookHotel": "completed", "Task_BookCar": "completed", "Task_BookFlight": "terminated",
					"Boundary_FlightUnavailable": "completed", "Task_CancelHotel": "completed", "Task_CancelCar": "completed",
					"EndEvent_TripCancelled": "completed", "EndEvent_TripBooked": ""},
				Runs:      map[string]string{"Task_BookFlight": "1", "Task_CancelHotel": "1", "Task_CancelCar": "1"},
				Pixels:    []string{"Task_BookFlight", "Task_CancelHotel", "Task_CancelCar", "EndEvent_TripCancelled"},
				Variables: map[string]string{"hotelCancelled": "true", "carCancelled": "true", "failFlight": "true"},
				LogsOf:    "Task_CancelCar", LogLine: published,
			},
		},
		{
			name: "the function that always fails: an incident", key: alwaysFail,
			want: viewtest.Want{
				State:    "incident",
				Elements: map[string]string{"Start": "completed", "Task_AlwaysFail": "incident", "End": ""},
				Runs:     map[string]string{"Start": "1", "Task_AlwaysFail": "1"},
				Pixels:   []string{"Start", "Task_AlwaysFail"},
				Incident: "always-fail: simulated failure",
				LogsOf:   "Task_AlwaysFail", LogLine: published,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			viewtest.CheckPage(cctx, t, fmt.Sprintf("%s/instances/%d", base, tc.key), tc.want)
		})
	}
}
