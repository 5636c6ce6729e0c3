// Package joblog builds the structured JSON loggers of the bridge: one line a
// record, and on every line about a job its job key and process instance key.
package joblog

import (
	"io"
	"log/slog"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
)

// EnvLevel set to "debug" (in any case) turns on debug logging; anything
// else logs at Info.
const EnvLevel = "LOG_LEVEL"

// FromEnv returns New(w, debug) with debug as LOG_LEVEL says; with
// ZEEBE_BRIDGE_NAME set, its metric lines also carry the bridge's name
// (emf.WithBridge).
func FromEnv(w io.Writer, getenv func(string) string) *slog.Logger {
	l := New(w, strings.EqualFold(getenv(EnvLevel), "debug"))
	if bridge := getenv(emf.EnvBridge); bridge != "" {
		return slog.New(emf.WithBridge(l.Handler(), bridge))
	}
	return l
}

// Attribute keys used on every job-related log line.
const (
	KeyJob             = "jobKey"
	KeyProcessInstance = "processInstanceKey"
)

// New returns a JSON logger writing to w at level Info, or Debug when debug is set.
func New(w io.Writer, debug bool) *slog.Logger {
	lvl := slog.LevelInfo
	if debug {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// ForJob returns l with the job key and process instance key attached.
func ForJob(l *slog.Logger, jobKey, processInstanceKey int64) *slog.Logger {
	return l.With(slog.Int64(KeyJob, jobKey), slog.Int64(KeyProcessInstance, processInstanceKey))
}

// Discard is a logger that writes nothing, for tests that do not look at logs.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
