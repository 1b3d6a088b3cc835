package protocol

import (
	"bytes"
	"testing"
)

func benchParse(b *testing.B, cfg Config, in []byte, chunk int) {
	p := NewParser(cfg)
	h := &countHandler{}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		for rest := in; len(rest) > 0; {
			n := min(chunk, len(rest))
			if err := p.Parse(rest[:n], h); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
	if h.ops == 0 {
		b.Fatal("no ops parsed")
	}
}

func BenchmarkParsePub(b *testing.B) {
	in := AppendPub(nil, []byte("foo.bar.baz"), nil, make([]byte, 128))
	benchParse(b, Config{}, in, len(in))
}

func BenchmarkParsePubReply(b *testing.B) {
	in := AppendPub(nil, []byte("foo.bar.baz"), []byte("_INBOX.Ri6jA3dTcm2IwGd4rNZ5Jr"), make([]byte, 128))
	benchParse(b, Config{}, in, len(in))
}

func BenchmarkParseHPub(b *testing.B) {
	in := AppendHPub(nil, []byte("foo.bar.baz"), nil, []byte("NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n"), make([]byte, 128))
	benchParse(b, Config{}, in, len(in))
}

func BenchmarkParseSub(b *testing.B) {
	benchParse(b, Config{}, AppendSub(nil, []byte("foo.*.baz"), []byte("workers"), []byte("42")), 1<<30)
}

func BenchmarkParseUnsub(b *testing.B) {
	benchParse(b, Config{}, AppendUnsub(nil, []byte("42"), 100), 1<<30)
}

func BenchmarkParsePing(b *testing.B) {
	benchParse(b, Config{}, []byte(PingLine), 1<<30)
}

func BenchmarkParseMsg(b *testing.B) {
	in := AppendMsg(nil, []byte("foo.bar.baz"), []byte("42"), nil, make([]byte, 128))
	benchParse(b, Config{Accept: ServerOps}, in, len(in))
}

// pubBatch is 1000 small PUBs back to back, as a fast publisher's read
// buffer holds them.
func pubBatch() []byte {
	one := AppendPub(nil, []byte("foo.bar"), nil, []byte("0123456789abcdef"))
	return bytes.Repeat(one, 1000)
}

func BenchmarkParsePubBatch(b *testing.B) {
	in := pubBatch()
	benchParse(b, Config{}, in, len(in))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/pub")
}

// BenchmarkParsePubBatchReads feeds the batch in 4 KiB reads, so an op is
// split at (almost) every read boundary.
func BenchmarkParsePubBatchReads(b *testing.B) {
	in := pubBatch()
	benchParse(b, Config{}, in, 4096)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/pub")
}

// BenchmarkParseLargePubReads is a 256 KiB PUB arriving in 64 KiB reads.
func BenchmarkParseLargePubReads(b *testing.B) {
	in := AppendPub(nil, []byte("foo"), nil, make([]byte, 256<<10))
	benchParse(b, Config{}, in, 64<<10)
}

func BenchmarkAppendMsgHeader(b *testing.B) {
	dst := make([]byte, 0, 256)
	subj, sid, reply := []byte("foo.bar.baz"), []byte("42"), []byte("_INBOX.Ri6jA3dTcm2IwGd4rNZ5Jr")
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendMsgHeader(dst[:0], subj, sid, reply, 1024)
	}
}

func BenchmarkAppendPub(b *testing.B) {
	dst := make([]byte, 0, 512)
	subj, payload := []byte("foo.bar.baz"), make([]byte, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendPub(nil, subj, nil, payload))))
	for b.Loop() {
		dst = AppendPub(dst[:0], subj, nil, payload)
	}
}

func BenchmarkParseRMsg(b *testing.B) {
	in := withPayload(AppendRMsgHeader(nil, []byte("$G"), []byte("foo.bar.baz"), nil, nil, 128), string(make([]byte, 128)))
	benchParse(b, routeCfg, in, len(in))
}

func BenchmarkParseRMsgQueues(b *testing.B) {
	in := withPayload(AppendRMsgHeader(nil, []byte("$G"), []byte("foo.bar.baz"), []byte("_INBOX.Ri6jA3dTcm2IwGd4rNZ5Jr"),
		[]byte("workers audit"), 128), string(make([]byte, 128)))
	benchParse(b, routeCfg, in, len(in))
}

func BenchmarkParseLMsg(b *testing.B) {
	in := withPayload(AppendLMsgHeader(nil, []byte("foo.bar.baz"), nil, nil, 128), string(make([]byte, 128)))
	benchParse(b, leafCfg, in, len(in))
}

func BenchmarkParseRSub(b *testing.B) {
	benchParse(b, routeCfg, AppendRSub(nil, []byte("$G"), []byte("foo.*.baz"), []byte("workers"), 42), 1<<30)
}

func BenchmarkParseLSub(b *testing.B) {
	benchParse(b, leafCfg, AppendLSub(nil, []byte("foo.*.baz"), []byte("workers"), 42), 1<<30)
}

func BenchmarkAppendRMsgHeader(b *testing.B) {
	dst := make([]byte, 0, 256)
	acc, subj, reply, queues := []byte("$G"), []byte("foo.bar.baz"), []byte("_INBOX.Ri6jA3dTcm2IwGd4rNZ5Jr"), []byte("workers audit")
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendRMsgHeader(dst[:0], acc, subj, reply, queues, 1024)
	}
}
