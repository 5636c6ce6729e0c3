// Package localzeebe is an open-source, Zeebe-compatible workflow engine for
// local development and tests: it serves Zeebe's gateway gRPC API (8.5), so
// the unmodified Zeebe clients (Go, Java, zbctl, pyzeebe) work against it,
// and, optionally, the REST API (v2) the 8.8 clients prefer (package rest).
// The engine itself is package engine; BPMN parsing is package bpmn; DMN
// decisions are package dmn; FEEL is package feel. A real Camunda 8 is reached through ZEEBE_ADDRESS instead.
package localzeebe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	// Registers gzip for the server: the Node.js SDK compresses every request
	// with it, and Zeebe's gateway accepts it.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/rest"
)

// ServiceName is the gRPC service whose health the engine reports.
const ServiceName = "gateway_protocol.Gateway"

// Options configure a server.
type Options struct {
	Addr      string       // listen address, e.g. "127.0.0.1:26500"; "127.0.0.1:0" picks a free port
	RESTAddr  string       // where the REST API (package rest) listens, e.g. "127.0.0.1:8080"; "" = not served
	DataDir   string       // where the embedded store lives (created if missing)
	RecordLog string       // JSON-lines file every record is appended to ("" = none)
	Fsync     bool         // wait for the disk on every commit (see engine.Config.Fsync)
	Logger    *slog.Logger // nil = discard
}

// Server is a running engine with its gRPC gateway.
type Server struct {
	eng    *engine.Engine
	grpc   *grpc.Server
	lis    net.Listener
	health *health.Server
	done   chan error

	rest    *http.Server // nil when Options.RESTAddr is ""
	restLis net.Listener
	restAPI *rest.Handler
}

// Start opens the engine (replaying its store) and serves the Zeebe gateway
// API and grpc.health.v1 on opts.Addr, and the REST API on opts.RESTAddr.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:26500"
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("port %s is in use: stop the other process or pass another address: %w", opts.Addr, err)
		}
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	eng, err := engine.Open(engine.Config{DataDir: opts.DataDir, RecordLog: opts.RecordLog, Fsync: opts.Fsync, Logger: lg})
	if err != nil {
		_ = lis.Close()
		return nil, err
	}
	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(4<<20), grpc.MaxSendMsgSize(4<<20),
		// The Go client pings every 45 s; grpc-go's default policy (5 min) would
		// answer that with GOAWAY on long-lived job streams.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	)
	pb.RegisterGatewayServer(gs, newGateway(eng, lis.Addr()))
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	s := &Server{eng: eng, grpc: gs, lis: lis, health: hs, done: make(chan error, 1)}
	if opts.RESTAddr != "" {
		if err := s.serveREST(ctx, opts.RESTAddr, lg); err != nil {
			_ = lis.Close()
			_ = eng.Close()
			return nil, err
		}
	}
	go func() { s.done <- gs.Serve(lis) }()
	lg.Info("serving the Zeebe gateway API", "addr", lis.Addr().String(), "data", opts.DataDir, "recordLog", opts.RecordLog)
	return s, nil
}

// serveREST serves the REST API on addr, over the same engine.
func (s *Server) serveREST(ctx context.Context, addr string, lg *slog.Logger) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return &RESTListenError{Addr: addr, Err: err}
	}
	opts := rest.Options{Logger: lg}
	if ta, ok := s.lis.Addr().(*net.TCPAddr); ok {
		opts.GatewayHost, opts.GatewayPort = ta.IP.String(), int32(ta.Port)
	}
	s.restAPI = rest.New(s.eng, opts)
	s.restLis = lis
	s.rest = &http.Server{Handler: s.restAPI, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.rest.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Error("the REST API stopped", "error", err)
		}
	}()
	lg.Info("serving the REST API", "url", "http://"+lis.Addr().String()+"/v2/")
	return nil
}

// RESTListenError is a REST address that could not be listened on; it
// tells it apart from the gRPC address, which fails alike.
type RESTListenError struct {
	Addr string
	Err  error
}

func (e *RESTListenError) Error() string {
	return "REST API: listen on " + e.Addr + ": " + e.Err.Error()
}
func (e *RESTListenError) Unwrap() error { return e.Err }

// RESTAddr is the address the REST API listens on ("" when not served).
func (s *Server) RESTAddr() string {
	if s.restLis == nil {
		return ""
	}
	return s.restLis.Addr().String()
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Engine is the engine behind the server.
func (s *Server) Engine() *engine.Engine { return s.eng }

// Close stops serving (open streams are ended) and closes the store.
func (s *Server) Close() error {
	s.health.Shutdown()
	if s.rest != nil {
		// Long polls would hold Shutdown for their whole request timeout.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := s.rest.Shutdown(sctx); err != nil {
			_ = s.rest.Close()
		}
		cancel()
		s.restAPI.Close()
	}
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		s.grpc.Stop() // long polls and job streams would hold GracefulStop
	}
	return s.eng.Close()
}

// CheckHealth reports nil when the server at addr is SERVING.
func CheckHealth(ctx context.Context, addr string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: ServiceName})
	if err != nil {
		return fmt.Errorf("no Zeebe gateway at %s: %w", addr, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("the Zeebe gateway at %s is %s", addr, resp.GetStatus())
	}
	return nil
}
