package fern

import (
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/internal/testcert"
)

// testCerts writes a fresh CA, server and client certificate, and an
// unrelated CA, into a temporary directory.
func testCerts(t *testing.T) (testcert.Files, string) {
	t.Helper()
	dir := t.TempDir()
	f, err := testcert.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := testcert.OtherCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	return f, other
}

// handshake runs a TLS handshake between the two configs over loopback TCP
// and returns each side's error. The server side is checked too: with TLS
// 1.3 a client finishes before the server has judged its certificate.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		sc := tls.Server(nc, server)
		if err := sc.HandshakeContext(ctx); err != nil {
			done <- err
			return
		}
		// Read the client's byte so a rejected client certificate
		// (reported after the client's handshake) surfaces on both sides.
		var b [1]byte
		if _, err := sc.Read(b[:]); err != nil {
			done <- err
			return
		}
		_, err = sc.Write(b[:])
		done <- err
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cc := tls.Client(nc, client)
	clientErr = cc.HandshakeContext(ctx)
	if clientErr == nil {
		var b [1]byte
		if _, clientErr = cc.Write([]byte{'x'}); clientErr == nil {
			_, clientErr = cc.Read(b[:])
		}
	}
	nc.Close() // unblock the server if the client gave up
	return <-done, clientErr
}

func TestTLSHandshake(t *testing.T) {
	t.Parallel()
	f, other := testCerts(t)
	tests := []struct {
		name           string
		server, client TLSOptions
		serverName     string
		wantErr        string // "": the handshake succeeds; else a substring of either side's error
	}{
		{"server verified by CA", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}, TLSOptions{CAFile: f.CA}, "localhost", ""},
		{"by IP address", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}, TLSOptions{CAFile: f.CA}, "127.0.0.1", ""},
		{"wrong name", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}, TLSOptions{CAFile: f.CA}, "example.com", "not example.com"},
		{"wrong CA", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}, TLSOptions{CAFile: other}, "localhost", "unknown authority"},
		{"wrong CA, insecure", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}, TLSOptions{CAFile: other, Insecure: true}, "localhost", ""},
		{"system roots do not know the test CA", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}, TLSOptions{}, "localhost", "unknown authority"},
		{"verify with client certificate", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: f.CA, Verify: true},
			TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey}, "localhost", ""},
		{"verify without client certificate", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: f.CA, Verify: true},
			TLSOptions{CAFile: f.CA}, "localhost", "didn't provide a certificate"},
		// The server names its CAs in the request; a Go client whose
		// certificate no listed CA signed sends none.
		{"verify against another CA", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: other, Verify: true},
			TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey}, "localhost", "didn't provide a certificate"},
		{"client certificate ignored without verify", TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey},
			TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey}, "localhost", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, err := tt.server.serverConfig()
			if err != nil {
				t.Fatal(err)
			}
			cc, err := tt.client.clientConfig(tt.serverName)
			if err != nil {
				t.Fatal(err)
			}
			serr, cerr := handshake(t, sc, cc)
			err = errors.Join(serr, cerr)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("handshake failed: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("handshake error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTLSServerConfig(t *testing.T) {
	t.Parallel()
	f, _ := testCerts(t)
	c, err := (&TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}).serverConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificates) != 1 || c.MinVersion != tls.VersionTLS12 || c.ClientAuth != tls.NoClientCert || c.ClientCAs != nil {
		t.Errorf("plain listener config: %d certificates, min version %x, client auth %v, client CAs %v",
			len(c.Certificates), c.MinVersion, c.ClientAuth, c.ClientCAs)
	}
	c, err = (&TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: f.CA, Verify: true}).serverConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != tls.RequireAndVerifyClientCert || c.ClientCAs == nil {
		t.Errorf("verify: client auth %v, client CAs %v; want RequireAndVerifyClientCert with the CA", c.ClientAuth, c.ClientCAs)
	}
	c, err = (&TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, Verify: true}).serverConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != tls.RequireAndVerifyClientCert || c.ClientCAs != nil {
		t.Errorf("verify without ca_file: client auth %v, client CAs %v; want system roots (nil)", c.ClientAuth, c.ClientCAs)
	}
}

func TestTLSClientConfig(t *testing.T) {
	t.Parallel()
	f, _ := testCerts(t)
	c, err := (*TLSOptions)(nil).clientConfig("hub.example")
	if err != nil || c.ServerName != "hub.example" || c.MinVersion != tls.VersionTLS12 || c.RootCAs != nil || c.InsecureSkipVerify {
		t.Errorf("nil options: %+v, %v; want system roots for hub.example", c, err)
	}
	c, err = (&TLSOptions{CertFile: f.ClientCert, KeyFile: f.ClientKey, CAFile: f.CA, Insecure: true}).clientConfig("h")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificates) != 1 || c.RootCAs == nil || !c.InsecureSkipVerify || c.ServerName != "h" {
		t.Errorf("full options: %d certificates, roots %v, insecure %v, server name %q",
			len(c.Certificates), c.RootCAs, c.InsecureSkipVerify, c.ServerName)
	}
}

// TestTLSEmbedderConfig: a Config is cloned, never shared, and keeps its
// own ServerName.
func TestTLSEmbedderConfig(t *testing.T) {
	t.Parallel()
	orig := &tls.Config{MinVersion: tls.VersionTLS13}
	o := &TLSOptions{Config: orig, CertFile: "/ignored"}
	sc, err := o.serverConfig()
	if err != nil || sc == orig || sc.MinVersion != tls.VersionTLS13 {
		t.Fatalf("serverConfig = %p, %v; want a clone of %p", sc, err, orig)
	}
	cc, err := o.clientConfig("dialled")
	if err != nil || cc == orig || cc.ServerName != "dialled" || orig.ServerName != "" {
		t.Fatalf("clientConfig = %+v, %v; want a clone naming the dialled host", cc, err)
	}
	orig.ServerName = "pinned"
	if cc, _ := o.clientConfig("dialled"); cc.ServerName != "pinned" {
		t.Errorf("ServerName = %q, want the Config's own", cc.ServerName)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	f, _ := testCerts(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name   string
		opts   *TLSOptions
		client bool   // clientConfig rather than serverConfig
		want   string // substring of the error
		wraps  error  // besides ErrTLSConfig
	}{
		{"no tls", nil, false, "no tls block", nil},
		{"listener without key", &TLSOptions{CertFile: f.ServerCert}, false, "both cert_file and key_file", nil},
		{"listener without anything", &TLSOptions{}, false, "both cert_file and key_file", nil},
		{"missing cert file", &TLSOptions{CertFile: missing, KeyFile: f.ServerKey}, false, "cert_file: open " + missing, fs.ErrNotExist},
		{"missing key file", &TLSOptions{CertFile: f.ServerCert, KeyFile: missing}, false, "key_file: open " + missing, fs.ErrNotExist},
		{"bad cert PEM", &TLSOptions{CertFile: junk, KeyFile: f.ServerKey}, false, `cert_file "` + junk + `"`, nil},
		{"key of another certificate", &TLSOptions{CertFile: f.ServerCert, KeyFile: f.ClientKey}, false, `key_file "` + f.ClientKey + `"`, nil},
		{"missing CA file", &TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: missing}, false, "ca_file: open " + missing, fs.ErrNotExist},
		{"CA file without certificates", &TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: f.ServerKey}, false, `ca_file "` + f.ServerKey + `": no PEM certificate`, nil},
		{"client cert without key", &TLSOptions{CertFile: f.ClientCert}, true, "both cert_file and key_file", nil},
		{"client key without cert", &TLSOptions{KeyFile: f.ClientKey}, true, "both cert_file and key_file", nil},
		{"client missing key", &TLSOptions{CertFile: f.ClientCert, KeyFile: missing}, true, "key_file: open " + missing, fs.ErrNotExist},
		{"client bad CA", &TLSOptions{CAFile: junk}, true, `ca_file "` + junk + `"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.client {
				_, err = tt.opts.clientConfig("h")
			} else {
				_, err = tt.opts.serverConfig()
			}
			if !errors.Is(err, ErrTLSConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v; want ErrTLSConfig containing %q", err, tt.want)
			}
			if tt.wraps != nil && !errors.Is(err, tt.wraps) {
				t.Errorf("error %v does not wrap %v", err, tt.wraps)
			}
		})
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts *TLSOptions
		want time.Duration
	}{
		{nil, DefaultTLSTimeout},
		{&TLSOptions{}, DefaultTLSTimeout},
		{&TLSOptions{Timeout: -time.Second}, DefaultTLSTimeout},
		{&TLSOptions{Timeout: 500 * time.Millisecond}, 500 * time.Millisecond},
	} {
		if got := tt.opts.handshakeTimeout(); got != tt.want {
			t.Errorf("%+v.handshakeTimeout() = %v, want %v", tt.opts, got, tt.want)
		}
	}
}
