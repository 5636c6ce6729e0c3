//go:build e2e

// Package e2e proves the bridge end to end: the real Zeebe broker, LocalStack's
// SNS and SQS with the provisioned filters and redrive policies, and the real
// poller, function and fulfiller handlers fed by the queues.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/harness"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
)

type suite struct {
	zb      *zeebeclient.Client
	records *recordlog.Log
	bridge  *harness.Bridge
}

func setup(t *testing.T) suite {
	t.Helper()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := provision.LocalConfig(ctx)
	require.NoError(t, err)

	logPath := filepath.Join(filepath.Dir(records.Path()), "e2e-bridge.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { _ = logFile.Close() })

	b, err := harness.Start(ctx, harness.Options{
		AWS: awsCfg, Zeebe: zb, Functions: catalog.All(),
		RetryBackoff: 200 * time.Millisecond, JobTimeout: 30 * time.Second,
		Log: joblog.New(logFile, false),
	})
	require.NoError(t, err, "LocalStack must be running at %s: `localstack/stack up`", provision.DefaultEndpoint)
	t.Cleanup(b.Stop)
	t.Logf("bridge logs: %s", logPath)
	return suite{zb: zb, records: records, bridge: b}
}

func (s suite) wait(t *testing.T, pik int64) (recordlog.Ending, []recordlog.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	end, err := s.records.WaitEnd(ctx, pik)
	require.NoError(t, err, "process instance %d did not end", pik)
	recs, err := s.records.Instance(pik)
	require.NoError(t, err)
	var timeline strings.Builder
	harness.Render(&timeline, fmt.Sprintf("instance %d", pik), recs, end)
	t.Log(timeline.String())
	return end, recs
}

func varString(t *testing.T, vars map[string]json.RawMessage, name string) string {
	t.Helper()
	raw, ok := vars[name]
	require.True(t, ok, "variable %s missing; have %v", name, vars)
	var s string
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

func TestEndToEnd(t *testing.T) {
	s := setup(t)
	zeebetest.DeployFile(t, s.zb.Zeebe(), filepath.Join("..", "..", "bpmn", "trip-booking.bpmn"))

	t.Run("trip booking completes on the happy path", func(t *testing.T) {
		trip := fmt.Sprintf("happy-%d", time.Now().UnixNano())
		pik := zeebetest.Start(t, s.zb.Zeebe(), "trip-booking", map[string]any{"tripId": trip, "destination": "Lisbon", "failFlight": false})
		end, recs := s.wait(t, pik)
		require.Nil(t, end.Incident)
		assert.True(t, end.Completed)
		assert.Equal(t, "EndEvent_TripBooked", end.EndEventID)
		vars := recordlog.Variables(recs)
		assert.Equal(t, "HOTEL-"+trip, varString(t, vars, "hotelBookingId"))
		assert.Equal(t, "CAR-"+trip, varString(t, vars, "carBookingId"))
		assert.Equal(t, "FLIGHT-"+trip, varString(t, vars, "flightBookingId"))
	})

	t.Run("a failed flight compensates car and hotel", func(t *testing.T) {
		trip := fmt.Sprintf("sad-%d", time.Now().UnixNano())
		pik := zeebetest.Start(t, s.zb.Zeebe(), "trip-booking", map[string]any{"tripId": trip, "destination": "Atlantis", "failFlight": true})
		end, recs := s.wait(t, pik)
		require.Nil(t, end.Incident)
		assert.True(t, end.Completed)
		assert.Equal(t, "EndEvent_TripCancelled", end.EndEventID)
		vars := recordlog.Variables(recs)
		assert.JSONEq(t, "true", string(vars["hotelCancelled"]))
		assert.JSONEq(t, "true", string(vars["carCancelled"]))
		assert.NotContains(t, vars, "flightBookingId")
		var completed []string
		for _, r := range recs {
			if r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "SERVICE_TASK" {
				completed = append(completed, r.Value.ElementID)
			}
		}
		assert.ElementsMatch(t, []string{"Task_BookHotel", "Task_BookCar", "Task_CancelCar", "Task_CancelHotel"}, completed)
	})

	t.Run("a failing function is retried by Zeebe exactly retries times and never by SQS", func(t *testing.T) {
		id := zeebetest.UniqueID("always-fail")
		zeebetest.Deploy(t, s.zb.Zeebe(), id+".bpmn", harness.SingleTaskProcess(id, "Task_AlwaysFail", map[string]string{"identifier": "always-fail"}, 3))
		pik := zeebetest.Start(t, s.zb.Zeebe(), id, nil)
		end, recs := s.wait(t, pik)

		require.NotNil(t, end.Incident, "the process must stop on an incident")
		assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
		assert.Equal(t, "Task_AlwaysFail", end.Incident.Value.ElementID)
		assert.Equal(t, "always-fail: simulated failure", end.Incident.Value.ErrorMessage)
		var failures []int32
		for _, r := range recordlog.Jobs(recs) {
			if r.Intent == "FAILED" {
				failures = append(failures, r.Value.Retries)
			}
		}
		assert.Equal(t, []int32{2, 1, 0}, failures, "Zeebe counted three attempts down to zero")

		// SQS handed each job message to the function exactly once.
		deliveries := s.bridge.Deliveries("always-fail")
		require.Len(t, deliveries, 3, "the function ran once per Zeebe retry")
		for _, d := range deliveries {
			assert.Equal(t, 1, d.ReceiveCount, "message %s was received more than once", d.MessageID)
			assert.False(t, d.Failed, "the record was acknowledged: the failure went to Zeebe, not back to SQS")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		queue, dlq, err := s.bridge.QueueDepths(ctx, "always-fail")
		require.NoError(t, err)
		assert.Equal(t, 0, queue, "nothing left for SQS to redeliver")
		assert.Equal(t, 0, dlq, "nothing was dead-lettered")
	})

	t.Run("a task without identifier becomes an incident naming the element", func(t *testing.T) {
		id := zeebetest.UniqueID("no-identifier")
		zeebetest.Deploy(t, s.zb.Zeebe(), id+".bpmn", harness.SingleTaskProcess(id, "Task_NoIdentifier", nil, 3))
		pik := zeebetest.Start(t, s.zb.Zeebe(), id, nil)
		end, _ := s.wait(t, pik)
		require.NotNil(t, end.Incident)
		assert.Equal(t, "Task_NoIdentifier", end.Incident.Value.ElementID)
		assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
		assert.Contains(t, end.Incident.Value.ErrorMessage, `"Task_NoIdentifier"`)
		assert.Contains(t, end.Incident.Value.ErrorMessage, `"identifier"`)
	})
}
