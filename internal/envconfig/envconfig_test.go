package envconfig_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
)

func TestGetenv(t *testing.T) {
	g := envconfig.Map(map[string]string{"D": "90s", "BAD_D": "ninety", "N": "7", "BAD_N": "0", "S": "x"})

	_, err := g.Required("MISSING", "the ARN of the topic")
	require.ErrorIs(t, err, envconfig.ErrMissing)
	assert.EqualError(t, err, "missing required environment variable MISSING: set it to the ARN of the topic")

	d, err := g.Duration("D", time.Second)
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, d)
	d, err = g.Duration("UNSET", time.Second)
	require.NoError(t, err)
	assert.Equal(t, time.Second, d)
	_, err = g.Duration("BAD_D", time.Second)
	require.ErrorIs(t, err, envconfig.ErrInvalid)
	assert.Contains(t, err.Error(), "BAD_D")

	n, err := g.Int("N", 1)
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	_, err = g.Int("BAD_N", 1)
	require.ErrorIs(t, err, envconfig.ErrInvalid)

	assert.Equal(t, "x", g.String("S", "d"))
	assert.Equal(t, "d", g.String("UNSET", "d"))
}
