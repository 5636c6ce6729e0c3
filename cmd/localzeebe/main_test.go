package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe"
)

func TestStartProblem(t *testing.T) {
	listen := func(err error) error {
		return fmt.Errorf("localzeebe: %w", &net.OpError{Op: "listen", Net: "tcp", Err: &os.SyscallError{Syscall: "bind", Err: err}})
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"address in use", listen(syscall.EADDRINUSE), "port 127.0.0.1:26500 is in use: stop the other process or pass -addr"},
		{"not a local address", listen(syscall.EADDRNOTAVAIL), "127.0.0.1:26500 is not an address of this machine"},
		{"privileged port", listen(syscall.EACCES), "not allowed to listen on 127.0.0.1:26500"},
		{"bad address", &net.OpError{Op: "listen", Net: "tcp", Err: errors.New("missing port in address")}, "cannot listen on 127.0.0.1:26500 (listen tcp: missing port in address): pass -addr"},
		{"record log", fmt.Errorf("open record log: %w", &fs.PathError{Op: "open", Path: "logs/records.jsonl", Err: fs.ErrPermission}), "cannot write the record log logs/records.jsonl"},
		{"record log directory", fmt.Errorf("create record log directory: %w", &fs.PathError{Op: "mkdir", Path: "logs", Err: fs.ErrPermission}), "cannot write the record log logs/records.jsonl"},
		{"store file", fmt.Errorf("open data/engine.db: %w", &fs.PathError{Op: "open", Path: "data/engine.db", Err: fs.ErrPermission}), "cannot use the data directory data ("},
		{"data directory", fmt.Errorf("open store: %w", &fs.PathError{Op: "mkdir", Path: "data", Err: fs.ErrPermission}), "cannot use the data directory data (open store: mkdir data: permission denied): fix its permissions or pass another -data"},
		{"REST address in use", &localzeebe.RESTListenError{Addr: "127.0.0.1:8080", Err: listen(syscall.EADDRINUSE)}, "port 127.0.0.1:8080, for the REST API, is in use: stop the other process or pass another -rest-addr (empty: no REST API)"},
		{"bad REST address", &localzeebe.RESTListenError{Addr: "8080", Err: &net.OpError{Op: "listen", Net: "tcp", Err: errors.New("missing port in address")}}, "cannot serve the REST API on 8080 (listen tcp: missing port in address): pass -rest-addr as host:port"},
		{"anything else", errors.New("store is\ncorrupt"), "cannot start on 127.0.0.1:26500 with data directory data: store is corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := startProblem(tt.err, "127.0.0.1:26500", "data", "logs/records.jsonl")
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("startProblem = %q, want it to start with %q", got, tt.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("startProblem = %q, want one line", got)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	getenv := func(string) string { return "" }
	tests := []struct {
		name       string
		args       []string
		code       int
		out, inErr string
	}{
		{name: "version", args: []string{"-version"}, code: 0, out: "localzeebe dev\n"},
		{name: "help", args: []string{"-h"}, code: 0, inErr: "-record-log"},
		{name: "unknown flag", args: []string{"-nope"}, code: 2, inErr: "flag provided but not defined: -nope"},
		{name: "argument", args: []string{"serve"}, code: 2, inErr: `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr, getenv); code != tt.code {
				t.Fatalf("exit code %d, want %d (stderr: %s)", code, tt.code, stderr.String())
			}
			if tt.out != "" && stdout.String() != tt.out {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.out)
			}
			if !strings.Contains(stderr.String(), tt.inErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.inErr)
			}
		})
	}
}

func TestHealthWithoutEngine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-health", "-addr", addr}, &stdout, &stderr, func(string) string { return "" }); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if got := stderr.String(); !strings.HasPrefix(got, "localzeebe: ") || !strings.Contains(got, addr) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q, want one line naming %s", got, addr)
	}
}

func TestViewPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stdout, stderr bytes.Buffer
	args := []string{"-addr", "127.0.0.1:0", "-rest-addr", "", "-data", t.TempDir(), "-view-addr", l.Addr().String()}
	if code := run(args, &stdout, &stderr, func(string) string { return "" }); code != 1 {
		t.Fatalf("exit code %d, want 1 (stderr: %s)", code, stderr.String())
	}
	want := fmt.Sprintf("localzeebe: port %s, for the process view, is in use: stop the other process or pass another -view-addr", l.Addr())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if got := lines[len(lines)-1]; !strings.HasPrefix(got, want) { // after the engine's own JSON log lines
		t.Errorf("last line of stderr %q, want it to start with %q", got, want)
	}
}

func TestRESTPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stdout, stderr bytes.Buffer
	args := []string{"-addr", "127.0.0.1:0", "-rest-addr", l.Addr().String(), "-data", t.TempDir()}
	if code := run(args, &stdout, &stderr, func(string) string { return "" }); code != 1 {
		t.Fatalf("exit code %d, want 1 (stderr: %s)", code, stderr.String())
	}
	want := fmt.Sprintf("localzeebe: port %s, for the REST API, is in use: stop the other process or pass another -rest-addr (empty: no REST API)", l.Addr())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if got := lines[len(lines)-1]; got != want { // after the engine's own JSON log lines
		t.Errorf("last line of stderr %q, want %q", got, want)
	}
}
