package zeebeclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
)

// authority is a CA made for a test.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newAuthority(t *testing.T, name string) authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return authority{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// serverCertificate is a certificate for 127.0.0.1 signed by a.
func (a authority) serverCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "zeebe-gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// topologyGateway answers Topology and counts the calls that got through
// the TLS handshake.
type topologyGateway struct {
	pb.UnimplementedGatewayServer
	calls atomic.Int32
}

func (g *topologyGateway) Topology(context.Context, *pb.TopologyRequest) (*pb.TopologyResponse, error) {
	g.calls.Add(1)
	return &pb.TopologyResponse{ClusterSize: 1, PartitionsCount: 1, ReplicationFactor: 1, GatewayVersion: "8.5.0-tls-test"}, nil
}

// startTLSGateway serves gw over TLS with cert on a free loopback port.
func startTLSGateway(t *testing.T, cert tls.Certificate, gw *topologyGateway) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	pb.RegisterGatewayServer(s, gw)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// TestPrivateCAVerifiesTheGateway: a client given a self-managed Zeebe's
// private CA, as the certificate itself (ZEEBE_CA_CERTIFICATE_PEM, what
// modules/bridge sets from zeebe_ca_certificate_pem) or as a file
// (ZEEBE_CA_CERTIFICATE_PATH), talks to a gateway whose certificate that
// CA signed, and refuses one signed by another CA before any call reaches it.
func TestPrivateCAVerifiesTheGateway(t *testing.T) {
	private, other := newAuthority(t, "private CA"), newAuthority(t, "another CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(private.pem), 0o600))
	tests := []struct {
		name     string
		env      map[string]string // besides ZEEBE_ADDRESS
		signedBy authority
		ok       bool
	}{
		{"PEM, gateway signed by the CA", map[string]string{"ZEEBE_CA_CERTIFICATE_PEM": private.pem}, private, true},
		{"PEM, gateway signed by another CA", map[string]string{"ZEEBE_CA_CERTIFICATE_PEM": private.pem}, other, false},
		{"file, gateway signed by the CA", map[string]string{"ZEEBE_CA_CERTIFICATE_PATH": caFile}, private, true},
		{"file, gateway signed by another CA", map[string]string{"ZEEBE_CA_CERTIFICATE_PATH": caFile}, other, false},
		{"system roots, private gateway", map[string]string{}, private, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := &topologyGateway{}
			env := map[string]string{"ZEEBE_ADDRESS": startTLSGateway(t, tt.signedBy.serverCertificate(t), gw)}
			for k, v := range tt.env {
				env[k] = v
			}
			certDir := t.TempDir()
			c, err := zeebeclient.New(context.Background(), envconfig.Map(env), zeebeclient.WithCertificateDir(certDir))
			require.NoError(t, err)
			defer func() { _ = c.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			topo, err := c.Zeebe().NewTopologyCommand().Send(ctx)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, "8.5.0-tls-test", topo.GetGatewayVersion())
				assert.Equal(t, int32(1), gw.calls.Load())
			} else {
				require.Error(t, err)
				assert.Equal(t, codes.Unavailable, status.Code(err), "the handshake fails: %v", err)
				assert.Equal(t, int32(0), gw.calls.Load(), "no call got through")
			}
			if _, ok := tt.env["ZEEBE_CA_CERTIFICATE_PEM"]; ok {
				files, err := filepath.Glob(filepath.Join(certDir, "*"))
				require.NoError(t, err)
				require.Len(t, files, 1, "the certificate, written once, nothing left beside it")
				got, err := os.ReadFile(files[0])
				require.NoError(t, err)
				assert.Equal(t, private.pem, string(got))
			}
		})
	}
}

func TestCACertificateConfiguration(t *testing.T) {
	ca := newAuthority(t, "private CA")
	tests := []struct {
		name string
		env  map[string]string
		says string
	}{
		{"both the PEM and a file", map[string]string{"ZEEBE_CA_CERTIFICATE_PEM": ca.pem, "ZEEBE_CA_CERTIFICATE_PATH": "/opt/ca.pem"},
			"ZEEBE_CA_CERTIFICATE_PEM and ZEEBE_CA_CERTIFICATE_PATH are both set"},
		{"not a certificate", map[string]string{"ZEEBE_CA_CERTIFICATE_PEM": "MIIB...no armour"}, "ZEEBE_CA_CERTIFICATE_PEM: want the PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := zeebeclient.New(context.Background(), envconfig.Map(tt.env), zeebeclient.WithCertificateDir(dir))
			require.ErrorIs(t, err, envconfig.ErrInvalid)
			assert.Contains(t, err.Error(), tt.says)
			files, err := filepath.Glob(filepath.Join(dir, "*"))
			require.NoError(t, err)
			assert.Empty(t, files, "nothing written")
		})
	}
}
