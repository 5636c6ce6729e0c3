//go:build integration

package processview_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview/viewtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// worker answers the next lambda job as answer says, by its function.
func worker(ctx context.Context, t *testing.T, zb zbc.Client, answer func(fn string, job entities.Job) error) {
	t.Helper()
	for {
		// The next job is created as soon as the last is answered; a long
		// poll that finds none for 2 s means the instance is at rest.
		pollCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		jobs, err := zb.NewActivateJobsCommand().JobType("lambda").MaxJobsToActivate(1).Timeout(time.Minute).
			WorkerName("test").Send(pollCtx)
		cancel()
		if len(jobs) == 0 && (err == nil || pollCtx.Err() != nil) {
			return
		}
		require.NoError(t, err)
		headers, err := jobs[0].GetCustomHeadersAsMap()
		require.NoError(t, err)
		require.NoError(t, answer(headers["identifier"], jobs[0]))
	}
}

func TestInstancePagesInChromium(t *testing.T) {
	assets, err := viewtest.Assets()
	require.NoError(t, err)
	_, err = viewtest.Chromium()
	require.NoError(t, err)

	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	zeebetest.DeployFile(t, zb, filepath.Join("..", "..", "bpmn", "trip-booking.bpmn"))
	srv := httptest.NewServer(processview.New(eng.Engine(), processview.Options{Assets: assets, Logs: fakeLogs{}}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := func(failFlight bool) int64 {
		return zeebetest.Start(t, zb, "trip-booking", map[string]any{"tripId": fmt.Sprintf("t-%v", failFlight), "failFlight": failFlight})
	}

	// Completed: every booking succeeds.
	completed := start(false)
	worker(ctx, t, zb, func(fn string, job entities.Job) error {
		cmd, err := zb.NewCompleteJobCommand().JobKey(job.Key).VariablesFromMap(map[string]any{fn + "Id": fn + "-42"})
		if err != nil {
			return err
		}
		_, err = cmd.Send(ctx)
		return err
	})
	// Interrupted: the flight throws FLIGHT_UNAVAILABLE, the boundary event
	// interrupts it, car and hotel are compensated.
	compensated := start(true)
	worker(ctx, t, zb, func(fn string, job entities.Job) error {
		if fn == "book-flight" {
			_, err := zb.NewThrowErrorCommand().JobKey(job.Key).ErrorCode("FLIGHT_UNAVAILABLE").ErrorMessage("no seats left").Send(ctx)
			return err
		}
		_, err := zb.NewCompleteJobCommand().JobKey(job.Key).Send(ctx)
		return err
	})
	// Incident: the hotel fails with no retries left; the car is never reached.
	incident := start(false)
	worker(ctx, t, zb, func(fn string, job entities.Job) error {
		_, err := zb.NewFailJobCommand().JobKey(job.Key).Retries(0).ErrorMessage("hotel service down: HTTP 503").Send(ctx)
		return err
	})

	// A model without a diagram, laid out by the view: one incident, one task still waiting.
	zeebetest.Deploy(t, zb, "plain.bpmn", zeebetest.SingleTaskProcess("plain", "Task_Plain", map[string]string{"identifier": "always-fail"}, 1))
	zeebetest.Deploy(t, zb, "waiting.bpmn", zeebetest.SingleTaskProcessOfType("waiting", "Task_Waiting", "nobody", nil, 1))
	plain := zeebetest.Start(t, zb, "plain", map[string]any{"n": 1})
	worker(ctx, t, zb, func(fn string, job entities.Job) error {
		_, err := zb.NewFailJobCommand().JobKey(job.Key).Retries(0).ErrorMessage(fn + ": simulated failure").Send(ctx)
		return err
	})
	waiting := zeebetest.Start(t, zb, "waiting", nil)

	tests := []struct {
		name      string
		key       int64
		state     string
		elements  map[string]string // element id -> marker
		runs      map[string]string
		variables map[string]string
		incident  string
		logsOf    string // a task whose job's log lines are shown
		pixels    []string
	}{
		{
			name: "completed", key: completed, state: "completed",
			elements: map[string]string{"StartEvent_TripRequested": "completed", "Task_BookHotel": "completed", "Task_BookCar": "completed",
				"Task_BookFlight": "completed", "EndEvent_TripBooked": "completed"},
			runs:      map[string]string{"Task_BookHotel": "1", "Task_BookCar": "1", "Task_BookFlight": "1"},
			variables: map[string]string{"tripId": `"t-false"`, "book-hotelId": `"book-hotel-42"`, "book-flightId": `"book-flight-42"`},
			logsOf:    "Task_BookCar",
			pixels:    []string{"Task_BookHotel", "Task_BookFlight", "EndEvent_TripBooked"},
		},
		{
			name: "compensated, the flight interrupted", key: compensated, state: "completed",
			elements: map[string]string{"Task_BookHotel": "completed", "Task_BookCar": "completed", "Task_BookFlight": "terminated",
				"Boundary_FlightUnavailable": "completed", "Task_CancelHotel": "completed", "Task_CancelCar": "completed",
				"EndEvent_TripCancelled": "completed"},
			runs:      map[string]string{"Task_CancelHotel": "1", "Task_CancelCar": "1", "Task_BookFlight": "1"},
			variables: map[string]string{"failFlight": "true"},
			logsOf:    "Task_CancelCar",
			pixels:    []string{"Task_BookFlight", "Task_CancelHotel", "EndEvent_TripCancelled"},
		},
		{
			name: "an incident", key: incident, state: "incident",
			elements: map[string]string{"StartEvent_TripRequested": "completed", "Task_BookHotel": "incident", "Task_BookCar": "",
				"EndEvent_TripBooked": ""},
			runs:      map[string]string{"Task_BookHotel": "1"},
			variables: map[string]string{"tripId": `"t-false"`},
			incident:  "hotel service down: HTTP 503",
			logsOf:    "Task_BookHotel",
			pixels:    []string{"Task_BookHotel", "StartEvent_TripRequested"},
		},
		{
			name: "an incident in a model without a diagram", key: plain, state: "incident",
			elements:  map[string]string{"Start": "completed", "Task_Plain": "incident"},
			runs:      map[string]string{"Start": "1", "Task_Plain": "1"},
			pixels:    []string{"Start", "Task_Plain"},
			variables: map[string]string{"n": "1"},
			incident:  "always-fail: simulated failure",
			logsOf:    "Task_Plain",
		},
		{
			name: "a task still running", key: waiting, state: "active",
			elements: map[string]string{"Start": "completed", "Task_Waiting": "active"},
			runs:     map[string]string{"Task_Waiting": "1"},
			pixels:   []string{"Task_Waiting"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := fmt.Sprintf("%s/instances/%d", srv.URL, tc.key)
			viewtest.CheckPage(ctx, t, url, viewtest.Want{State: tc.state, Elements: tc.elements, Runs: tc.runs, Pixels: tc.pixels,
				Variables: tc.variables, Incident: tc.incident, LogsOf: tc.logsOf, LogLines: 2, LogLine: `"msg":"job received"`})
		})
	}

	var later int64
	t.Run("an open page follows the instance as it runs", func(t *testing.T) {
		zeebetest.Deploy(t, zb, "later.bpmn", zeebetest.SingleTaskProcessOfType("later", "Task_Later", "later", nil, 1))
		later = zeebetest.Start(t, zb, "later", nil)
		// The page is served while the task waits; the job is completed
		// when its first poll arrives, so only the poll can show it done.
		var once sync.Once
		view := processview.New(eng.Engine(), processview.Options{Assets: assets})
		live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/instances/") {
				once.Do(func() {
					jobs, err := zb.NewActivateJobsCommand().JobType("later").MaxJobsToActivate(1).Timeout(time.Minute).WorkerName("test").Send(ctx)
					if assert.NoError(t, err) && assert.Len(t, jobs, 1) {
						_, err = zb.NewCompleteJobCommand().JobKey(jobs[0].Key).Send(ctx)
						assert.NoError(t, err)
					}
				})
			}
			view.ServeHTTP(w, r)
		}))
		t.Cleanup(live.Close)
		doc, err := viewtest.DumpDOM(ctx, t.TempDir(), fmt.Sprintf("%s/instances/%d", live.URL, later))
		require.NoError(t, err)
		viewtest.CheckDOM(t, doc, viewtest.Want{State: "completed",
			Elements: map[string]string{"Start": "completed", "Task_Later": "completed", "End": "completed"},
			Runs:     map[string]string{"Start": "1", "Task_Later": "1", "End": "1"}})
	})

	t.Run("the overview lists the instances, newest first", func(t *testing.T) {
		doc, err := viewtest.DumpDOM(ctx, t.TempDir(), srv.URL+"/")
		require.NoError(t, err)
		rows := viewtest.Find(doc, func(n *html.Node) bool { return n.Data == "tr" && viewtest.Attr(n, "data-instance") != "" })
		var got []string
		for _, r := range rows {
			got = append(got, viewtest.Text(r))
		}
		want := []struct {
			key         int64
			proc, state string
		}{{later, "later", "completed"}, {waiting, "waiting", "active"}, {plain, "plain", "incident"}, {incident, "trip-booking", "incident"},
			{compensated, "trip-booking", "completed"}, {completed, "trip-booking", "completed"}}
		require.Len(t, got, len(want))
		for i, w := range want {
			assert.True(t, strings.HasPrefix(got[i], fmt.Sprintf("%d %s 1 %s ", w.key, w.proc, w.state)), got[i])
		}
	})
}
