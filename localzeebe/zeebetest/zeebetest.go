// Package zeebetest connects tests to the local Zeebe engine that
// localstack/stack starts, deploys models and waits on the exported records.
// A missing engine fails the test with a message saying how to start it;
// nothing is skipped.
package zeebetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// Address is the Zeebe gateway: $ZEEBE_ADDRESS, or where localstack/stack
// starts the engine for $STACK_PORT_OFFSET (127.0.0.1:26500 without it).
func Address() string {
	if a := os.Getenv("ZEEBE_ADDRESS"); a != "" {
		return a
	}
	if n, err := strconv.Atoi(os.Getenv("STACK_PORT_OFFSET")); err == nil && n > 0 {
		return fmt.Sprintf("127.0.0.1:%d", 26500+n)
	}
	return zeebeclient.DefaultAddress
}

// Client connects to the local engine, or fails the test saying how to start it.
func Client(t testing.TB) *zeebeclient.Client {
	t.Helper()
	addr := Address()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("no Zeebe engine at %s (%v): start the local stack with `localstack/stack up` (make test does it for you)", addr, err)
	}
	_ = conn.Close()
	zb, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = zb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		top, err := zb.NewTopologyCommand().Send(ctx)
		if err == nil && len(top.Brokers) > 0 && len(top.Brokers[0].Partitions) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Zeebe engine at %s has no healthy partition after 30s (last error: %v); see .local/logs/zeebe.log", addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return zeebeclient.Wrap(zb)
}

// Records follows the engine's record log from its current end (call it
// before starting the instances the test reads), or fails the test if the
// log is missing.
func Records(t testing.TB) *recordlog.Log {
	t.Helper()
	p := recordlog.DefaultPath()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Zeebe record log %s not found (%v): the local engine must be started by `localstack/stack up`, which tells it to write the record log", p, err)
	}
	l, err := recordlog.Follow(p)
	if err != nil {
		t.Fatalf("Zeebe record log: %v", err)
	}
	return l
}

// Deploy deploys a BPMN model given as bytes.
func Deploy(t testing.TB, zb zbc.Client, name string, bpmn []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := zb.NewDeployResourceCommand().AddResource(bpmn, name).Send(ctx)
	require.NoError(t, err, "deploy %s", name)
}

// DeployFile deploys a BPMN file.
func DeployFile(t testing.TB, zb zbc.Client, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	Deploy(t, zb, path, b)
}

// Start creates an instance of the latest version of a process.
func Start(t testing.TB, zb zbc.Client, processID string, vars map[string]any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, err := zb.NewCreateInstanceCommand().BPMNProcessId(processID).LatestVersion().VariablesFromMap(vars)
	require.NoError(t, err)
	resp, err := cmd.Send(ctx)
	require.NoError(t, err, "start %s", processID)
	return resp.ProcessInstanceKey
}

// UniqueID returns a process id no earlier test run has deployed.
func UniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}
