// Package localzeebetest starts an in-process local Zeebe engine for Go
// tests, on a free loopback port, with its store and record log in the
// test's temporary directory.
package localzeebetest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe"
)

// Engine is an engine started for a test.
type Engine struct {
	*localzeebe.Server
	DataDir   string // the store's directory
	RecordLog string // the JSON-lines record log
}

// Start starts an engine that stops when the test ends.
func Start(t testing.TB) *Engine {
	t.Helper()
	return StartLogged(t, nil)
}

// StartLogged is Start with the engine's log going to lg (e.g. to see which
// REST requests it served, logged at debug level).
func StartLogged(t testing.TB, lg *slog.Logger) *Engine {
	t.Helper()
	dir := t.TempDir()
	e := &Engine{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	e.Server = start(t, "127.0.0.1:0", e.DataDir, e.RecordLog, lg)
	return e
}

// StartAt starts an engine on addr with the given store and record log, and
// its REST API on a free loopback port (Server.RESTAddr); it stops when the
// test ends (closing twice is harmless).
func StartAt(t testing.TB, addr, dataDir, recordLog string) *localzeebe.Server {
	t.Helper()
	return start(t, addr, dataDir, recordLog, nil)
}

func start(t testing.TB, addr, dataDir, recordLog string, lg *slog.Logger) *localzeebe.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := localzeebe.Start(ctx, localzeebe.Options{Addr: addr, RESTAddr: "127.0.0.1:0", DataDir: dataDir, RecordLog: recordLog, Logger: lg})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Client returns a plaintext Zeebe Go client for the engine, closed when the test ends.
func Client(t testing.TB, addr string) zbc.Client {
	t.Helper()
	zb, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = zb.Close() })
	return zb
}
