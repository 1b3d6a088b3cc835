package interop

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
)

// Helpers of the transport interop tests (transport_test.go):
//
//   - writeTLSFiles: throwaway TLS material generated at run time (a CA, a
//     server certificate for loopback, a client certificate);
//   - compressible: random payloads that S2 can shrink;
//   - txSend: nats.go traffic from one server to another, checked byte
//     for byte and in order;
//   - readS2Wire: what a leafTap saw in one direction of a connection,
//     split at the S2 stream identifier, with the S2 stream decoded chunk
//     by chunk (checksums verified), so a test can prove both where the
//     switch happened and that the bytes were really compressed.

// txWait bounds every wait of the transport tests.
const txWait = 10 * time.Second

// burstMsgs and burstSize make the zero bursts whose size on the wire
// shows whether a direction compresses: 3 x 256 KiB of zeros shrink to a
// few hundred bytes with any S2 level, and do not shrink at all without
// compression or with s2_uncompressed framing.
const (
	burstMsgs = 3
	burstSize = 256 << 10
	burstRaw  = burstMsgs * burstSize
)

// writeTLSFiles generates a CA, a server certificate for 127.0.0.1, ::1
// and localhost (good for client auth too, as routes need), and a client
// certificate, both signed by the CA, as PEM files in a temporary
// directory of the test. Each call makes a new CA.
func writeTLSFiles(t *testing.T) harness.TLSFiles {
	t.Helper()
	dir := t.TempDir()
	f := harness.TLSFiles{
		CA:         filepath.Join(dir, "ca.pem"),
		Cert:       filepath.Join(dir, "server-cert.pem"),
		Key:        filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client-cert.pem"),
		ClientKey:  filepath.Join(dir, "client-key.pem"),
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "interop test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER := signCert(t, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	writePEM(t, f.CA, "CERTIFICATE", caDER)
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(tmpl *x509.Certificate, certPath, keyPath string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		writePEM(t, certPath, "CERTIFICATE", signCert(t, tmpl, caCert, &key.PublicKey, caKey))
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, keyPath, "PRIVATE KEY", pkcs8)
	}
	issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		// Client auth too: on routes every server presents this
		// certificate as a client as well.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, f.Cert, f.Key)
	issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "interop test leaf"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, f.ClientCert, f.ClientKey)
	return f
}

// signCert stamps tmpl (serial, validity from an hour ago for a day) and
// signs it with parent's key.
func signCert(t *testing.T, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) []byte {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newTxRand is a seeded generator; the seed is logged so that a failure
// can be replayed.
func newTxRand(t *testing.T) *mrand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("payload seed %d", seed)
	return mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// compressible is n random bytes that S2 shrinks: words drawn from a
// small random vocabulary, separated by spaces.
func compressible(rng *mrand.Rand, n int) []byte {
	vocab := make([][]byte, 48)
	for i := range vocab {
		w := make([]byte, 3+rng.IntN(10))
		for j := range w {
			w[j] = byte(' ' + 1 + rng.IntN(94))
		}
		vocab[i] = w
	}
	out := make([]byte, 0, n+16)
	for len(out) < n {
		out = append(out, vocab[rng.IntN(len(vocab))]...)
		out = append(out, ' ')
	}
	return out[:n]
}

// txPayloadSizes are the sizes of the payloads each direction carries.
var txPayloadSizes = []int{0, 1, 100, 4096, 64 << 10, 256 << 10}

// txPayloads are compressible payloads of txPayloadSizes.
func txPayloads(rng *mrand.Rand) [][]byte {
	out := make([][]byte, len(txPayloadSizes))
	for i, n := range txPayloadSizes {
		out[i] = compressible(rng, n)
	}
	return out
}

// zeroBurst is burstMsgs payloads of burstSize zeros.
func zeroBurst() [][]byte {
	out := make([][]byte, burstMsgs)
	for i := range out {
		out[i] = make([]byte, burstSize)
	}
	return out
}

// txEnd is a nats.go client of one server.
type txEnd struct {
	name string
	nc   *nats.Conn
	// knows reports whether the client's server knows interest in a
	// subject.
	knows func(subject string) bool
}

// connectTx connects a client to url; it is closed when the test ends.
func connectTx(t *testing.T, name, url string, knows func(string) bool) txEnd {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(name), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connect %s to %s: %v", name, url, err)
	}
	t.Cleanup(nc.Close)
	return txEnd{name: name, nc: nc, knows: knows}
}

// txSend subscribes to on subject, waits until from's server knows that
// interest, publishes payloads from from and checks that to receives each
// of them, byte for byte and in order, and nothing else.
func txSend(t *testing.T, from, to txEnd, subject string, payloads [][]byte) {
	t.Helper()
	sub, err := to.nc.SubscribeSync(subject)
	if err != nil {
		t.Fatalf("%s: subscribe %s: %v", to.name, subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := to.nc.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", to.name, err)
	}
	if err := harness.Poll(txWait, from.name+"'s server knows "+subject, func() bool { return from.knows(subject) }); err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if err := from.nc.Publish(subject, p); err != nil {
			t.Fatalf("%s: publish %d bytes to %s: %v", from.name, len(p), subject, err)
		}
	}
	if err := from.nc.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", from.name, err)
	}
	for i, want := range payloads {
		m, err := sub.NextMsg(txWait)
		if err != nil {
			t.Fatalf("%s -> %s on %s: message %d of %d (%d bytes): %v", from.name, to.name, subject, i+1, len(payloads), len(want), err)
		}
		if !bytes.Equal(m.Data, want) {
			t.Fatalf("%s -> %s on %s: message %d: got %d bytes, want %d (first difference at %d)",
				from.name, to.name, subject, i+1, len(m.Data), len(want), firstDiff(m.Data, want))
		}
	}
	// A fence on the same subject: anything extra would arrive before it.
	if err := from.nc.Publish(subject, []byte("fence")); err != nil {
		t.Fatalf("%s: publish fence: %v", from.name, err)
	}
	m, err := sub.NextMsg(txWait)
	if err != nil || string(m.Data) != "fence" {
		t.Fatalf("%s -> %s on %s: after the payloads got %v (%v), want the fence", from.name, to.name, subject, msgLen(m), err)
	}
}

func msgLen(m *nats.Msg) string {
	if m == nil {
		return "no message"
	}
	return fmt.Sprintf("%d bytes", len(m.Data))
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// txBurst sends a zero burst from from to to on subject (see txSend) and
// returns how many bytes the tap relayed in direction dir meanwhile.
func txBurst(t *testing.T, tap *leafTap, dir string, from, to txEnd, subject string) int {
	t.Helper()
	before := tap.relayed(dir)
	txSend(t, from, to, subject, zeroBurst())
	return tap.relayed(dir) - before
}

// checkShrink fails the test unless the bytes a burst took on the wire
// match shrinks: true, far fewer than the payload; false, at least the
// payload.
func checkShrink(t *testing.T, what string, wire int, shrinks bool) {
	t.Helper()
	switch {
	case shrinks && wire > burstRaw/16:
		t.Errorf("%s: %d bytes of zeros took %d bytes on the wire, want compressed (< %d)", what, burstRaw, wire, burstRaw/16)
	case !shrinks && wire < burstRaw:
		t.Errorf("%s: %d bytes of zeros took only %d bytes on the wire, want no compression", what, burstRaw, wire)
	}
}

// relayed is how many bytes the tap relayed in direction dir ("->" or
// "<-"), over every connection.
func (tp *leafTap) relayed(dir string) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	n := 0
	for _, c := range tp.chunks {
		if c.dir == dir {
			n += len(c.data)
		}
	}
	return n
}

// stream is everything relayed on connection conn (from 1) in direction
// dir, in order.
func (tp *leafTap) stream(conn int, dir string) []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var b []byte
	for _, c := range tp.chunks {
		if c.conn == conn && c.dir == dir {
			b = append(b, c.data...)
		}
	}
	return b
}

// s2StreamID is the S2 stream identifier chunk that starts an S2 stream.
const s2StreamID = "\xff\x06\x00\x00S2sTwO"

// s2Wire is one direction of a connection, split where it became an S2
// stream.
type s2Wire struct {
	// clear is what crossed before the S2 stream identifier: everything
	// when there is none.
	clear []byte
	// framed reports an S2 stream identifier.
	framed bool
	// plain is the S2 stream decoded, up to its last complete chunk.
	plain []byte
	// compressed and uncompressed count the data chunks of each kind.
	compressed, uncompressed int
	// err is a malformed chunk or a checksum mismatch.
	err error
}

var errS2Wire = errors.New("malformed S2 stream")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// s2Checksum is the masked CRC-32C of the S2 (and Snappy) framing format.
func s2Checksum(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// readS2Wire splits b at the first S2 stream identifier and decodes the
// chunks that follow: 0x00 compressed data, 0x01 uncompressed data (each
// with a checksum of the decoded bytes), 0xff another stream identifier,
// 0x80 to 0xfe skippable; any other type is an error.
func readS2Wire(b []byte) s2Wire {
	i := bytes.Index(b, []byte(s2StreamID))
	if i < 0 {
		return s2Wire{clear: b}
	}
	w := s2Wire{clear: b[:i], framed: true}
	rest := b[i:]
	for len(rest) >= 4 {
		typ := rest[0]
		n := int(rest[1]) | int(rest[2])<<8 | int(rest[3])<<16
		if len(rest) < 4+n {
			break // the rest has not crossed yet
		}
		body := rest[4 : 4+n]
		at := len(b) - len(rest)
		rest = rest[4+n:]
		switch {
		case typ == 0xff:
			if string(body) != s2StreamID[4:] {
				w.err = fmt.Errorf("%w: stream identifier %q at %d", errS2Wire, body, at)
				return w
			}
		case typ == 0x00 || typ == 0x01:
			if n < 4 {
				w.err = fmt.Errorf("%w: data chunk of %d bytes at %d", errS2Wire, n, at)
				return w
			}
			data := body[4:]
			if typ == 0x00 {
				d, err := s2.Decode(nil, data)
				if err != nil {
					w.err = fmt.Errorf("%w: chunk at %d: %w", errS2Wire, at, err)
					return w
				}
				data = d
				w.compressed++
			} else {
				w.uncompressed++
			}
			if got, want := s2Checksum(data), binary.LittleEndian.Uint32(body[:4]); got != want {
				w.err = fmt.Errorf("%w: chunk at %d: checksum %08x, want %08x", errS2Wire, at, got, want)
				return w
			}
			w.plain = append(w.plain, data...)
		case typ >= 0x80:
		default:
			w.err = fmt.Errorf("%w: reserved chunk type %#x at %d", errS2Wire, typ, at)
			return w
		}
	}
	return w
}

// protoLines splits protocol text into its lines, skipping message
// payloads by the size their line announces.
func protoLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			break
		}
		line := string(b[:i])
		b = b[i+2:]
		out = append(out, line)
		b = b[min(leafPayloadSize(line), len(b)):]
	}
	return out
}

// opsOf are the first fields (operations) of lines.
func opsOf(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		op, _, _ := strings.Cut(l, " ")
		out[i] = op
	}
	return out
}

// countMsgs is how many message lines for subject are in lines (LMSG
// subject ..., RMSG account subject ...).
func countMsgs(lines []string, subject string) int {
	n := 0
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) >= 2 && f[0] == "LMSG" && f[1] == subject:
			n++
		case len(f) >= 3 && f[0] == "RMSG" && f[2] == subject: // RMSG account subject ...
			n++
		}
	}
	return n
}

// describeWire summarises both directions of a relayed connection for a
// failure message: sizes, the clear-text lines, the S2 chunks and the
// first decoded lines.
func describeWire(tp *leafTap, conn int) string {
	var b strings.Builder
	for _, dir := range []string{"->", "<-"} {
		raw := tp.stream(conn, dir)
		w := readS2Wire(raw)
		fmt.Fprintf(&b, "#%d %s %d bytes, framed %v, chunks %d compressed %d raw, err %v\n",
			conn, dir, len(raw), w.framed, w.compressed, w.uncompressed, w.err)
		clear := w.clear
		if len(clear) > 600 {
			clear = clear[:600]
		}
		fmt.Fprintf(&b, "  clear: %q\n", clear)
		lines := protoLines(w.plain)
		for _, l := range lines[:min(len(lines), 12)] {
			if len(l) > 120 {
				l = l[:120] + "…"
			}
			fmt.Fprintf(&b, "  s2: %s\n", l)
		}
	}
	return b.String()
}
