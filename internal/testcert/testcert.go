// Package testcert writes throwaway TLS material for tests: a CA, a server
// certificate and a client certificate signed by it, and on request an
// unrelated CA to test verification failures.
//
// Everything is generated at run time (ECDSA P-256 keys, certificates valid
// from an hour ago for a day), so no key material is checked in and nothing
// expires in the repository. The server certificate names 127.0.0.1, ::1
// and "localhost", which covers loopback listeners dialled by address or by
// name. Files are PEM: certificates as CERTIFICATE blocks, keys as PKCS #8
// PRIVATE KEY blocks, which crypto/tls loads directly.
//
// The package is for tests only; its keys are not protected in any way.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files are the paths Write produced.
type Files struct {
	CA         string // the CA certificate, to verify either side
	ServerCert string // server certificate for 127.0.0.1, ::1 and localhost
	ServerKey  string
	ClientCert string // client certificate (extended key usage client auth)
	ClientKey  string
}

// ErrWrite is wrapped by every error of this package.
var ErrWrite = errors.New("testcert: cannot write test certificates")

// Write generates a CA, a server and a client certificate signed by it, and
// writes them as PEM files into dir (which must exist).
func Write(dir string) (Files, error) {
	ca, err := newCA("fern test CA")
	if err != nil {
		return Files{}, err
	}
	f := Files{
		CA:         filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server-cert.pem"),
		ServerKey:  filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client-cert.pem"),
		ClientKey:  filepath.Join(dir, "client-key.pem"),
	}
	if err := writeCert(f.CA, ca.der); err != nil {
		return Files{}, err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		// Both usages: servers present it as clients too (route TLS).
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if err := ca.issue(server, f.ServerCert, f.ServerKey); err != nil {
		return Files{}, err
	}
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "fern test client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if err := ca.issue(client, f.ClientCert, f.ClientKey); err != nil {
		return Files{}, err
	}
	return f, nil
}

// OtherCA writes a CA certificate unrelated to any Write call into dir and
// returns its path: verifying with it must fail.
func OtherCA(dir string) (string, error) {
	ca, err := newCA("fern unrelated CA")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "other-ca.pem")
	return path, writeCert(path, ca.der)
}

// authority is a CA's key and certificate.
type authority struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	der  []byte
}

func newCA(name string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	if err := stamp(tmpl); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return &authority{key: key, cert: cert, der: der}, nil
}

// issue signs a leaf certificate from tmpl with a fresh key and writes the
// pair.
func (a *authority) issue(tmpl *x509.Certificate, certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if err := stamp(tmpl); err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	if err := writeCert(certPath, der); err != nil {
		return err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return writePEM(keyPath, "PRIVATE KEY", pkcs8)
}

// stamp gives tmpl a random serial number and the validity window.
func stamp(tmpl *x509.Certificate) error {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = tmpl.NotBefore.Add(24 * time.Hour)
	return nil
}

func writeCert(path string, der []byte) error { return writePEM(path, "CERTIFICATE", der) }

func writePEM(path, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return nil
}
