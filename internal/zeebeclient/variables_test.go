package zeebeclient_test

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
)

// variablesGateway records the variables of the commands it receives.
type variablesGateway struct {
	pb.UnimplementedGatewayServer
	mu   sync.Mutex
	vars []string
}

func (g *variablesGateway) CompleteJob(_ context.Context, r *pb.CompleteJobRequest) (*pb.CompleteJobResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vars = append(g.vars, r.GetVariables())
	return &pb.CompleteJobResponse{}, nil
}

func (g *variablesGateway) ThrowError(_ context.Context, r *pb.ThrowErrorRequest) (*pb.ThrowErrorResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vars = append(g.vars, r.GetVariables())
	return &pb.ThrowErrorResponse{}, nil
}

// TestVariablesReachZeebeUnchanged: variables go to Zeebe as the document
// they are (without the client decoding them whole); what is not a JSON
// object is refused before anything is sent, as the client refused it.
func TestVariablesReachZeebeUnchanged(t *testing.T) {
	g := &variablesGateway{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	pb.RegisterGatewayServer(s, g)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	c, err := zeebeclient.New(context.Background(), envconfig.Map(map[string]string{"ZEEBE_ADDRESS": lis.Addr().String(), "ZEEBE_INSECURE_CONNECTION": "true"}))
	require.NoError(t, err)
	defer c.Close()
	for _, tt := range []struct {
		name, vars string
		sent       string // "" : nothing sent as variables
		refused    bool
	}{
		// Compacted, HTML characters escaped (encoding/json's Marshal), numbers as written.
		{"an object", `{"a":"<b> & é", "n":9007199254740993,"x":[1.5e3,{"y":null}]}`, `{"a":"\u003cb\u003e \u0026 é","n":9007199254740993,"x":[1.5e3,{"y":null}]}`, false},
		{"an object in space", " \n{ \"a\" : 1 }\t", `{"a":1}`, false},
		{"null: none", `null`, "", false},
		{"empty: none", ``, "", false},
		{"an array", `[1,2]`, "", true},
		{"a string", `"x"`, "", true},
		{"cut short", `{"a":`, "", true},
		{"an object and more", `{"a":1} {"b":2}`, "", true},
	} {
		for _, op := range []string{"complete", "throw"} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				g.mu.Lock()
				g.vars = nil
				g.mu.Unlock()
				if op == "complete" {
					err = c.CompleteJob(ctx, 1, json.RawMessage(tt.vars))
				} else {
					err = c.ThrowError(ctx, 1, "E", "m", json.RawMessage(tt.vars))
				}
				g.mu.Lock()
				defer g.mu.Unlock()
				if tt.refused {
					require.ErrorIs(t, err, zeebeclient.ErrNotAnObject)
					assert.Empty(t, g.vars, "nothing sent")
					return
				}
				require.NoError(t, err)
				require.Len(t, g.vars, 1)
				if tt.sent == "" {
					assert.Equal(t, "", g.vars[0])
					return
				}
				assert.Equal(t, tt.sent, g.vars[0])
			})
		}
	}
}
