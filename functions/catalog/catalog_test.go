package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
)

// TestCatalogMatchesMainDirectories keeps the catalog and the functions/<name>
// main packages in step: each main must have an entry and each entry a main.
func TestCatalogMatchesMainDirectories(t *testing.T) {
	entries, err := os.ReadDir("..")
	require.NoError(t, err)
	var mains []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		src, err := os.ReadFile(filepath.Join("..", e.Name(), "main.go"))
		if err != nil {
			continue
		}
		if regexp.MustCompile(`(?m)^package main$`).Match(src) {
			mains = append(mains, e.Name())
		}
	}
	var names []string
	for _, f := range catalog.All() {
		names = append(names, f.Name)
	}
	assert.ElementsMatch(t, mains, names)
}

func TestCatalogEntriesAreDeployable(t *testing.T) {
	cfg := lambdakit.Config{Publisher: nopPublisher{}, OutcomeTopicARN: "arn", Logger: joblog.Discard()}
	for _, f := range catalog.All() {
		require.NoError(t, topology.ValidateFunction(f.Name, f.Timeout), f.Name)
		h, err := f.New(cfg)
		require.NoError(t, err, f.Name)
		assert.NotNil(t, h)
		got, ok := catalog.ByName(f.Name)
		require.True(t, ok)
		assert.Equal(t, f.Timeout, got.Timeout)
	}
	_, ok := catalog.ByName("nope")
	assert.False(t, ok)
}

type nopPublisher struct{}

func (nopPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	return make([]error, len(msgs))
}
