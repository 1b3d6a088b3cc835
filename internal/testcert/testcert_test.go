package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteVerifies: the server certificate verifies for every loopback
// name against the CA, the client certificate verifies for client auth,
// and neither verifies against OtherCA.
func TestWriteVerifies(t *testing.T) {
	dir := t.TempDir()
	f, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := OtherCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	roots, otherRoots := pool(t, f.CA), pool(t, other)
	server := leaf(t, f.ServerCert, f.ServerKey)
	client := leaf(t, f.ClientCert, f.ClientKey)

	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		opts := x509.VerifyOptions{Roots: roots, DNSName: name}
		if _, err := server.Verify(opts); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
		opts.Roots = otherRoots
		if _, err := server.Verify(opts); err == nil {
			t.Errorf("server certificate for %s verified against the unrelated CA", name)
		}
	}
	if _, err := server.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example.com"}); err == nil {
		t.Error("server certificate verified for example.com")
	}
	clientOpts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := client.Verify(clientOpts); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	clientOpts.Roots = otherRoots
	if _, err := client.Verify(clientOpts); err == nil {
		t.Error("client certificate verified against the unrelated CA")
	}
}

func TestWriteMissingDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Write(missing); !errors.Is(err, ErrWrite) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write(%s) = %v, want ErrWrite wrapping os.ErrNotExist", missing, err)
	}
	if _, err := OtherCA(missing); !errors.Is(err, ErrWrite) {
		t.Errorf("OtherCA(%s) = %v, want ErrWrite", missing, err)
	}
}

func pool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(data) {
		t.Fatalf("%s holds no PEM certificate", path)
	}
	return p
}

// leaf loads a certificate and key pair and returns the parsed certificate.
func leaf(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair.Leaf
}
