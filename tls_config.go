package fern

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"
)

// DefaultTLSTimeout bounds a TLS handshake when TLSOptions.Timeout is zero.
const DefaultTLSTimeout = 2 * time.Second

// ErrTLSConfig is wrapped by errors about a TLS configuration: a missing or
// unreadable certificate, key or CA file, a pair given by halves, or a
// listener that needs TLS and has none.
var ErrTLSConfig = errors.New("fern: tls configuration")

// serverConfig builds the listener side of t: the embedder's Config (a
// clone, so the server never shares it), or one loaded from the files.
// CertFile and KeyFile are required; CAFile, if set, is the pool client
// certificates are verified against (default: the system roots), and
// Verify requires a verified client certificate.
func (t *TLSOptions) serverConfig() (*tls.Config, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: no tls block", ErrTLSConfig)
	}
	if t.Config != nil {
		return t.Config.Clone(), nil
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return nil, fmt.Errorf("%w: a listener needs both cert_file and key_file (cert_file %q, key_file %q)",
			ErrTLSConfig, t.CertFile, t.KeyFile)
	}
	pair, err := loadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		// A nil ClientCAs verifies against the system roots.
		if c.ClientCAs, err = loadPool(t.CAFile); err != nil {
			return nil, err
		}
	}
	if t.Verify {
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// clientConfig builds the dialling side of t for a server named
// serverName (a host name or IP address; it is kept if the embedder's
// Config names one already). A nil t verifies the server against the
// system roots. CertFile and KeyFile, both or neither, are a client
// certificate; CAFile replaces the system roots; Insecure skips verifying
// the server.
func (t *TLSOptions) clientConfig(serverName string) (*tls.Config, error) {
	if t != nil && t.Config != nil {
		c := t.Config.Clone()
		if c.ServerName == "" {
			c.ServerName = serverName
		}
		return c, nil
	}
	c := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if t == nil {
		return c, nil
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		pair, err := loadKeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	case t.CertFile != "" || t.KeyFile != "":
		return nil, fmt.Errorf("%w: a client certificate needs both cert_file and key_file (cert_file %q, key_file %q)",
			ErrTLSConfig, t.CertFile, t.KeyFile)
	}
	if t.CAFile != "" {
		pool, err := loadPool(t.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	c.InsecureSkipVerify = t.Insecure
	return c, nil
}

// routeConfigs builds both sides of a cluster's TLS from one block, as
// officially: every server is a client of the others, so the pair is
// required, client certificates are always required and verified, and
// CAFile (default: the system roots) verifies both directions. The client
// side's ServerName is set per dial.
func (t *TLSOptions) routeConfigs() (server, client *tls.Config, err error) {
	if server, err = t.serverConfig(); err != nil {
		return nil, nil, err
	}
	if t.Config == nil {
		server.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if client, err = t.clientConfig(""); err != nil {
		return nil, nil, err
	}
	return server, client, nil
}

// handshakeTimeout is how long a handshake may take: t.Timeout, or
// DefaultTLSTimeout when it is unset (or t is nil).
func (t *TLSOptions) handshakeTimeout() time.Duration {
	if t == nil || t.Timeout <= 0 {
		return DefaultTLSTimeout
	}
	return t.Timeout
}

// loadKeyPair reads a PEM certificate and key; errors name the file at
// fault.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: cert_file: %w", ErrTLSConfig, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: key_file: %w", ErrTLSConfig, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: cert_file %q, key_file %q: %w", ErrTLSConfig, certFile, keyFile, err)
	}
	return pair, nil
}

// loadPool reads PEM CA certificates into a pool.
func loadPool(caFile string) (*x509.CertPool, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: ca_file: %w", ErrTLSConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%w: ca_file %q: no PEM certificate found", ErrTLSConfig, caFile)
	}
	return pool, nil
}
