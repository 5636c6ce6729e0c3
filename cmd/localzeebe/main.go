// Command localzeebe runs the project's own open-source, Zeebe-compatible
// engine: it serves the Zeebe gateway gRPC API (and grpc.health.v1) on -addr
// and the REST API (Orchestration Cluster API v2, package localzeebe/rest) on
// -rest-addr, and keeps its state in an embedded store under -data, until
// SIGINT or SIGTERM. `localstack/stack up` builds and starts it.
//
//	localzeebe [-addr 127.0.0.1:26500] [-rest-addr 127.0.0.1:8080] [-data .local/zeebe-data] [-record-log FILE] [-view-addr 127.0.0.1:8088 [-view-assets DIR]]
//	localzeebe -health [-addr 127.0.0.1:26500]   exit 0 when the engine there is SERVING
//	localzeebe -version
//
// -view-addr serves the local process view (package processview) over HTTP;
// with AWS_ENDPOINT_URL set it shows each Lambda task's log lines from that
// endpoint's CloudWatch Logs.
//
// Logs are JSON lines on stderr (LOG_LEVEL=debug for more). Everything about
// the engine itself lives in package localzeebe; this is only its command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const healthTimeout = 2 * time.Second

// GCPercent is the engine binary's garbage-collection target unless GOGC is set.
const GCPercent = 400

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	flags := flag.NewFlagSet("localzeebe", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:26500", "address to serve the Zeebe gateway API on (host:port)")
	// 8080 is where the 8.8 clients look for the REST API by default.
	restAddr := flags.String("rest-addr", "127.0.0.1:8080", "address to serve the REST API (v2) on (host:port; empty: none)")
	dataDir := flags.String("data", ".local/zeebe-data", "directory of the embedded store (created if missing)")
	recordLog := flags.String("record-log", "", "append every record to this JSON-lines file (empty: none)")
	fsync := flags.Bool("fsync", false, "wait for the disk on every commit (survives power loss; slower). Without it the store survives the engine being killed")
	viewAddr := flags.String("view-addr", "", "serve the process view over HTTP on this address (empty: none)")
	viewAssets := flags.String("view-assets", "", "bpmn-js's dist directory, which draws the view's diagrams (empty: none)")
	health := flags.Bool("health", false, "do not serve: exit 0 if the engine on -addr reports SERVING, else 1")
	showVersion := flags.Bool("version", false, "print the version and exit")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "localzeebe: unexpected argument %q: it takes only flags (-h lists them)\n", flags.Arg(0))
		return 2
	}

	switch {
	case *showVersion:
		fmt.Fprintln(stdout, "localzeebe", version)
		return 0
	case *health:
		ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
		defer cancel()
		if err := localzeebe.CheckHealth(ctx, *addr); err != nil {
			msg := oneLine(err)
			if !strings.Contains(msg, *addr) {
				msg = "no healthy engine at " + *addr + ": " + msg
			}
			fmt.Fprintln(stderr, "localzeebe: "+msg)
			return 1
		}
		return 0
	}

	logger := joblog.FromEnv(stderr, getenv)

	if getenv("GOGC") == "" {
		// The engine allocates a record's worth of garbage per record; a
		// larger heap target halves the time the collector takes from it
		// (measured: 290 → 210 µs CPU per job in BenchmarkActivateComplete).
		debug.SetGCPercent(GCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := localzeebe.Start(ctx, localzeebe.Options{
		Addr:      *addr,
		RESTAddr:  *restAddr,
		DataDir:   *dataDir,
		RecordLog: *recordLog,
		Fsync:     *fsync,
		Logger:    logger,
	})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "localzeebe: interrupted while starting")
			return 1
		}
		fmt.Fprintln(stderr, "localzeebe: "+startProblem(err, *addr, *dataDir, *recordLog))
		return 1
	}
	var view *http.Server
	if *viewAddr != "" {
		view, err = serveView(ctx, srv, *viewAddr, *viewAssets, getenv, logger)
		if err != nil {
			_ = srv.Close()
			fmt.Fprintln(stderr, "localzeebe: "+oneLine(err))
			return 1
		}
	}
	logger.Info("localzeebe running", "version", version, "pid", os.Getpid())

	<-ctx.Done()
	stop() // a second signal kills the process at once
	logger.Info("localzeebe stopping")
	if view != nil {
		_ = view.Close()
	}
	if err := srv.Close(); err != nil {
		logger.Error("localzeebe did not stop cleanly", "error", err)
		return 1
	}
	logger.Info("localzeebe stopped")
	return 0
}

// serveView serves the process view of srv's records on addr.
func serveView(ctx context.Context, srv *localzeebe.Server, addr, assets string, getenv func(string) string, logger *slog.Logger) (*http.Server, error) {
	opts := processview.Options{Assets: assets, Logger: logger}
	if endpoint := getenv("AWS_ENDPOINT_URL"); endpoint != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("process view: AWS configuration for the Lambda log lines: %w", err)
		}
		opts.Logs = processview.CloudWatchLogs{Client: cloudwatchlogs.NewFromConfig(cfg)}
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("port %s, for the process view, is in use: stop the other process or pass another -view-addr: %w", addr, err)
		}
		return nil, fmt.Errorf("process view: listen on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: processview.New(srv.Engine(), opts), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("process view stopped", "error", err)
		}
	}()
	logger.Info("serving the process view", "url", "http://"+lis.Addr().String()+"/", "assets", assets, "lambdaLogs", opts.Logs != nil)
	return hs, nil
}

// startProblem turns a failed Start into one line naming the problem and the fix.
func startProblem(err error, addr, dataDir, recordLog string) string {
	var pathErr *fs.PathError
	var opErr *net.OpError
	var restErr *localzeebe.RESTListenError
	switch {
	case errors.As(err, &restErr) && errors.Is(err, syscall.EADDRINUSE):
		return fmt.Sprintf("port %s, for the REST API, is in use: stop the other process or pass another -rest-addr (empty: no REST API)", restErr.Addr)
	case errors.As(err, &restErr):
		return fmt.Sprintf("cannot serve the REST API on %s (%s): pass -rest-addr as host:port, e.g. 127.0.0.1:8080, or empty for none", restErr.Addr, oneLine(restErr.Err))
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Sprintf("port %s is in use: stop the other process or pass -addr", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("%s is not an address of this machine: pass -addr with a local address, e.g. 127.0.0.1:26500", addr)
	case errors.As(err, &opErr) && opErr.Op == "listen":
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Sprintf("not allowed to listen on %s: pass -addr with a port above 1023", addr)
		}
		return fmt.Sprintf("cannot listen on %s (%s): pass -addr as host:port, e.g. 127.0.0.1:26500", addr, oneLine(err))
	case errors.As(err, &pathErr) && recordLog != "" && !within(pathErr.Path, dataDir) &&
		(within(pathErr.Path, filepath.Dir(recordLog)) || within(recordLog, pathErr.Path)):
		return fmt.Sprintf("cannot write the record log %s (%s): fix the permissions of it or its directory, or pass another -record-log", recordLog, oneLine(err))
	case errors.As(err, &pathErr):
		return fmt.Sprintf("cannot use the data directory %s (%s): fix its permissions or pass another -data", dataDir, oneLine(err))
	}
	return fmt.Sprintf("cannot start on %s with data directory %s: %s", addr, dataDir, oneLine(err))
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	path, dir = filepath.Clean(path), filepath.Clean(dir)
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// oneLine keeps an error message on one line, as every message here is.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
