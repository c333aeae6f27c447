package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files in dir and returns the certificate.
func selfSigned(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "quorumchain test node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("rpc_cert.pem", "CERTIFICATE", der)
	write("rpc_key.pem", "EC PRIVATE KEY", kder)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestRPCOverTLS: with [rpc] tls_cert_file and tls_key_file set, the node
// serves its RPC over wss:// to a client that trusts the certificate, and
// not over plain ws://.
func TestRPCOverTLS(t *testing.T) {
	home, _ := newTestHome(t)
	cert := selfSigned(t, filepath.Dir(home.ConfigPath()))
	cfg, err := LoadConfig(home.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg.RPC.TLSCertFile, cfg.RPC.TLSKeyFile = "rpc_cert.pem", "rpc_key.pem"
	if err := cfg.Save(home.ConfigPath()); err != nil {
		t.Fatal(err)
	}
	n, err := New(home, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("node Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("node did not stop within 10s")
		}
	}()

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	c, err := rpc.DialTLS(dctx, "wss://"+n.RPCAddr()+"/ws", &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer c.Close()
	st, err := c.Status(dctx)
	if err != nil {
		t.Fatalf("status over wss: %v", err)
	}
	if st.ChainID != "quorum-test" {
		t.Fatalf("chain id %q over wss", st.ChainID)
	}
	if plain, err := rpc.Dial(dctx, "ws://"+n.RPCAddr()+"/ws"); err == nil {
		plain.Close()
		t.Fatal("plain ws:// dial to a TLS listener succeeded")
	}
	if _, err := rpc.DialTLS(dctx, "wss://"+n.RPCAddr()+"/ws", &tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
}

// TestTLSConfigNeedsBoth: a certificate without a key (or the reverse) is
// a config error, not a node that silently serves plain text.
func TestTLSConfigNeedsBoth(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RPC.TLSCertFile = "rpc_cert.pem"
	if err := cfg.Validate(); err == nil {
		t.Fatal("a TLS certificate without a key validated")
	}
}
