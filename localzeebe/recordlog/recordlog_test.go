package recordlog_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// testdata/compensation.jsonl was exported by a real Zeebe 8.5.8 broker running
// bpmn/trip-booking.bpmn with a flight that threw FLIGHT_UNAVAILABLE.
const compensatedInstance = 2251799813685251

func TestWaitEndReadsACompensatedTrip(t *testing.T) {
	l := recordlog.Open(filepath.Join("testdata", "compensation.jsonl"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	end, err := l.WaitEnd(ctx, compensatedInstance)
	require.NoError(t, err)
	assert.True(t, end.Completed)
	assert.Equal(t, "EndEvent_TripCancelled", end.EndEventID)
	assert.Nil(t, end.Incident)

	recs, err := l.Instance(compensatedInstance)
	require.NoError(t, err)
	var completed []string
	for _, r := range recs {
		if r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "SERVICE_TASK" {
			completed = append(completed, r.Value.ElementID)
		}
	}
	assert.ElementsMatch(t, []string{"Task_BookHotel", "Task_BookCar", "Task_CancelHotel", "Task_CancelCar"}, completed)
	assert.Equal(t, `"t1"`, string(recordlog.Variables(recs)["tripId"]))

	var thrown []string
	for _, j := range recordlog.Jobs(recs) {
		if j.Intent == "ERROR_THROWN" {
			thrown = append(thrown, j.Value.ElementID+":"+j.Value.ErrorCode)
		}
	}
	assert.Equal(t, []string{"Task_BookFlight:FLIGHT_UNAVAILABLE"}, thrown)
}

func TestWaitForFollowsAppendedLinesAndTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")
	l := recordlog.Open(path)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := l.WaitEnd(ctx, 7) // the file does not exist yet
	require.ErrorIs(t, err, context.DeadlineExceeded)

	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteString("Debug exporter opened\n" +
		`{"recordType":"EVENT","valueType":"INCIDENT","intent":"CREATED","timestamp":1,"value":{"processInstanceKey":7,"elementId":"Task_A","errorType":"JOB_NO_RETRIES","errorMessage":"boom"}}` + "\n" +
		`{"recordType":"EVENT","valueType":"INCIDENT","intent":"CREATED","value":{"processInstanceKey":7,"elementId":"Task_B"`) // incomplete line
	require.NoError(t, err)

	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	end, err := l.WaitEnd(ctx2, 7)
	require.NoError(t, err)
	require.NotNil(t, end.Incident)
	assert.Equal(t, "Task_A", end.Incident.Value.ElementID)
	assert.Equal(t, "boom", end.Incident.Value.ErrorMessage)
	assert.False(t, end.Completed)

	_, err = f.WriteString(`,"errorMessage":"second"}}` + "\n")
	require.NoError(t, err)
	recs, err := l.Instance(7)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "second", recs[1].Value.ErrorMessage)
}

func TestFollowReadsOnlyWhatIsAppended(t *testing.T) {
	rec := func(pik int, el string) string {
		return `{"recordType":"EVENT","valueType":"INCIDENT","intent":"CREATED","value":{"processInstanceKey":` + strconv.Itoa(pik) + `,"elementId":"` + el + `"}}`
	}
	tests := []struct {
		name     string
		existing string
	}{
		{"nothing yet", ""},
		{"whole lines", rec(7, "Task_Old") + "\n"},
		{"the engine mid-line", rec(7, "Task_Old") + "\n" + `{"recordType":"EVENT","valueType":"INCIDENT","intent":"CREATED","value":{"processInstanceKey":7,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "records.jsonl")
			require.NoError(t, os.WriteFile(path, []byte(tt.existing), 0o600))
			l, err := recordlog.Follow(path)
			require.NoError(t, err)

			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			defer f.Close()
			if strings.HasSuffix(tt.existing, ",") {
				_, err = f.WriteString(`"elementId":"Task_Old"}}` + "\n") // the rest of that line
				require.NoError(t, err)
			}
			_, err = f.WriteString(rec(7, "Task_New") + "\n")
			require.NoError(t, err)

			recs, err := l.Instance(7)
			require.NoError(t, err)
			require.Len(t, recs, 1, "only the record appended after Follow")
			assert.Equal(t, "Task_New", recs[0].Value.ElementID)
		})
	}
	l, err := recordlog.Follow(filepath.Join(t.TempDir(), "missing.jsonl"))
	require.NoError(t, err)
	recs, err := l.Instance(7)
	require.NoError(t, err)
	assert.Empty(t, recs)
}
