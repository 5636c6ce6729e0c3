package joblog_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
)

// TestFromEnvNamesTheBridge: the modules set ZEEBE_BRIDGE_NAME, and every
// component's metrics then carry it; without it they carry the component only.
func TestFromEnvNamesTheBridge(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		dims string
	}{
		{map[string]string{emf.EnvBridge: "b-zeebe-bridge"}, `"Dimensions":[["Bridge","Component"]]`},
		{map[string]string{}, `"Dimensions":[["Component"]]`},
	} {
		var buf bytes.Buffer
		joblog.FromEnv(&buf, func(k string) string { return tt.env[k] }).Info("outcome applied", emf.Attrs("fulfiller", time.Now(), emf.N("OutcomesCompleted", 1))...)
		assert.Contains(t, buf.String(), tt.dims)
		if b := tt.env[emf.EnvBridge]; b != "" {
			assert.Contains(t, buf.String(), `"Bridge":"b-zeebe-bridge"`)
		} else {
			assert.NotContains(t, buf.String(), `"Bridge"`)
		}
	}
}
