package emf_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
)

func TestWithBridge(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(emf.WithBridge(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}), "staging-zeebe-bridge")).With("jobKey", 7)
	log.Info("job published", emf.Attrs("poller", time.UnixMilli(1796290000123), emf.N("JobsPublished", 1))...)
	log.Info("no metrics here", "a", 1)
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	assert.Equal(t, `{"level":"INFO","msg":"job published","jobKey":7,"_aws":{"Timestamp":1796290000123,"CloudWatchMetrics":[{"Namespace":"ZeebeLambdaBridge","Dimensions":[["Bridge","Component"]],"Metrics":[{"Name":"JobsPublished","Unit":"Count"}]}]},"Component":"poller","JobsPublished":1,"Bridge":"staging-zeebe-bridge"}`, string(lines[0]))
	assert.Equal(t, `{"level":"INFO","msg":"no metrics here","jobKey":7,"a":1}`, string(lines[1]), "a line without metrics is left alone")
	values, err := emf.Parse(lines[0])
	require.NoError(t, err, "CloudWatch takes the line: the Bridge dimension is a string on it")
	assert.Equal(t, map[string]float64{"JobsPublished": 1}, values)
}
