// Package localzeebe is an open-source, Zeebe-compatible workflow engine for
// local development and tests: it serves Zeebe's gateway gRPC API (8.5), so
// the unmodified Zeebe clients (Go, Java, zbctl, pyzeebe) work against it.
// The engine itself is package engine; BPMN parsing is package bpmn; DMN
// decisions are package dmn; FEEL is package feel. A real Camunda 8 is reached through ZEEBE_ADDRESS instead.
package localzeebe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
)

// ServiceName is the gRPC service whose health the engine reports.
const ServiceName = "gateway_protocol.Gateway"

// Options configure a server.
type Options struct {
	Addr      string       // listen address, e.g. "127.0.0.1:26500"; "127.0.0.1:0" picks a free port
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
}

// Start opens the engine (replaying its store) and serves the Zeebe gateway
// API and grpc.health.v1 on opts.Addr.
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
	go func() { s.done <- gs.Serve(lis) }()
	lg.Info("serving the Zeebe gateway API", "addr", lis.Addr().String(), "data", opts.DataDir, "recordLog", opts.RecordLog)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Engine is the engine behind the server.
func (s *Server) Engine() *engine.Engine { return s.eng }

// Close stops serving (open streams are ended) and closes the store.
func (s *Server) Close() error {
	s.health.Shutdown()
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
