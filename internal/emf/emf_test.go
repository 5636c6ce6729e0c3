package emf_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
)

func TestAttrsMakeASlogLineValidEMF(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	at := time.UnixMilli(1796290000123)
	log.Info("job published", append([]any{"jobKey", int64(42)},
		emf.Attrs("poller", at, emf.N("JobsPublished", 1), emf.Ms("PublishMs", 12500*time.Microsecond))...)...)

	values, err := emf.Parse(buf.Bytes())
	require.NoError(t, err, buf.String())
	assert.Equal(t, map[string]float64{"JobsPublished": 1, "PublishMs": 12.5}, values)
	assert.Contains(t, buf.String(), `"_aws":{"Timestamp":1796290000123,"CloudWatchMetrics":[{"Namespace":"ZeebeLambdaBridge","Dimensions":[["Component"]],"Metrics":[{"Name":"JobsPublished","Unit":"Count"},{"Name":"PublishMs","Unit":"Milliseconds"}]}]}`)
	assert.Contains(t, buf.String(), `"Component":"poller"`)
	assert.Contains(t, buf.String(), `"jobKey":42`, "the line's own fields stay")
}

func TestParseRejectsWhatCloudWatchRejects(t *testing.T) {
	const dir = `"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Component"]],"Metrics":[{"Name":"M"}]}]}`
	tests := []struct {
		name, line, want string
	}{
		{"not JSON", `job published`, "not an EMF line"},
		{"a plain log line", `{"msg":"job published"}`, "not an EMF line"},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":1}`, "Timestamp"},
		{"no namespace", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":1}`, "Namespace"},
		{"no metrics", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[]}]}}`, "0 metrics"},
		{"metric missing", `{` + dir + `,"Component":"poller"}`, `metric "M"`},
		{"metric not a number", `{` + dir + `,"Component":"poller","M":"1"}`, `metric "M"`},
		{"dimension missing", `{` + dir + `,"M":1}`, `dimension "Component"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := emf.Parse([]byte(tt.line))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	values, err := emf.Parse([]byte(`{` + dir + `,"Component":"poller","M":3}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"M": 3}, values)
}

func ExampleAttrs() {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // a fixed output for the example
			}
			return a
		},
	}))
	log.Info("outcome applied", emf.Attrs("fulfiller", time.UnixMilli(1796290000000), emf.N("OutcomesCompleted", 1))...)
	values, _ := emf.Parse(buf.Bytes())
	fmt.Print(buf.String())
	fmt.Println(values)
	// Output:
	// {"level":"INFO","msg":"outcome applied","_aws":{"Timestamp":1796290000000,"CloudWatchMetrics":[{"Namespace":"ZeebeLambdaBridge","Dimensions":[["Component"]],"Metrics":[{"Name":"OutcomesCompleted","Unit":"Count"}]}]},"Component":"fulfiller","OutcomesCompleted":1}
	// map[OutcomesCompleted:1]
}

func TestTotals(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("plain line")
	log.Info("a", emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesApplied", 1), emf.N("JobsCompleted", 1))...)
	log.Info("b", emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesApplied", 1), emf.N("JobsFailed", 1))...)
	got, err := emf.Totals(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"OutcomesApplied": 2, "JobsCompleted": 1, "JobsFailed": 1}, got)

	_, err = emf.Totals([]byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"M"}]}]}}` + "\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1")
}
