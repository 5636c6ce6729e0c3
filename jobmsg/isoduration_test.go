package jobmsg_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "PT5M", want: 5 * time.Minute},
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "PT1H30M15S", want: 90*time.Minute + 15*time.Second},
		{in: "PT2H5S", want: 2*time.Hour + 5*time.Second},
		{in: "P1D", want: 24 * time.Hour},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "PT0.3S", want: 300 * time.Millisecond},
		{in: "PT0,25S", want: 250 * time.Millisecond},
		{in: "PT1.000000001S", want: time.Second + time.Nanosecond},
		{in: "PT90S", want: 90 * time.Second},
		{in: "PT120M", want: 2 * time.Hour},
		{in: "pt5m", want: 5 * time.Minute},
		{in: " PT5M ", want: 5 * time.Minute},
		{in: "PT0H0M1S", want: time.Second},
		{in: "5m", bad: true},
		{in: "", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "P1DT", bad: true},
		{in: "PT0S", bad: true},
		{in: "-PT5M", bad: true},
		{in: "PT-5M", bad: true},
		{in: "P1Y", bad: true},
		{in: "P1M", bad: true},
		{in: "P1W", bad: true},
		{in: "PT5", bad: true},
		{in: "PT1M1H", bad: true},
		{in: "PT1H1H", bad: true},
		{in: "PT.5S", bad: true},
		{in: "PT1.0000000001S", bad: true},
		{in: "PT1.5M", bad: true},
		{in: "P1.5D", bad: true},
		{in: "PT5M ago", bad: true},
		{in: "P999999999999D", bad: true},
		{in: "PT9223372036854775807S", bad: true},
		{in: "P106751DT23H47M17S", bad: true}, // just past the longest time.Duration
		{in: "P106751DT23H47M16.854775808S", bad: true},
		{in: "P106751DT23H47M16.854775807S", want: time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := jobmsg.ParseISODuration(tt.in)
			if tt.bad {
				require.Error(t, err, "got %v", got)
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", tt.in))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
