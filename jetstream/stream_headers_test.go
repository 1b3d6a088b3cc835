package jetstream

import (
	"bytes"
	"testing"
)

func TestHeaderValue(t *testing.T) {
	block := []byte("NATS/1.0\r\nNats-Msg-Id: abc\r\nX:  spaced \r\nNats-Msg-Id-Other: no\r\nEmpty:\r\n\r\n")
	for _, tc := range []struct {
		hdr   []byte
		key   string
		want  string
		found bool
	}{
		{block, "Nats-Msg-Id", "abc", true},
		{block, "X", "spaced", true},
		{block, "Empty", "", true},
		{block, "nats-msg-id", "", false}, // case-sensitive, as official
		{block, "Nats-Msg", "", false},
		{block, "NATS/1.0", "", false},
		{nil, "X", "", false},
		{[]byte("NATS/1.0 503\r\n\r\n"), "503", "", false},
		{[]byte("NATS/1.0\r\nK: v"), "K", "v", true}, // no final CRLF
		{[]byte("NATS/1.0\r\nK:v\r\nK: second\r\n\r\n"), "K", "v", true},
	} {
		v, ok := headerValue(tc.hdr, tc.key)
		if string(v) != tc.want || ok != tc.found {
			t.Errorf("%q %q: %q %v", tc.hdr, tc.key, v, ok)
		}
	}
}

func TestHeaderUint(t *testing.T) {
	for _, tc := range []struct {
		val         string
		n           uint64
		present, ok bool
	}{
		{"0", 0, true, true},
		{"42", 42, true, true},
		{"18446744073709551615", 1<<64 - 1, true, true},
		{"18446744073709551616", 0, true, false},
		{"-1", 0, true, false},
		{"1x", 0, true, false},
		{"", 0, false, true},
	} {
		n, present, ok := headerUint(hdrs("N", tc.val), "N")
		if n != tc.n || present != tc.present || ok != tc.ok {
			t.Errorf("%q: %d %v %v", tc.val, n, present, ok)
		}
	}
	if _, present, _ := headerUint(nil, "N"); present {
		t.Error("absent key present")
	}
}

func TestAppendDirectHeaders(t *testing.T) {
	const tail = "Nats-Stream: S\r\nNats-Subject: a.b\r\nNats-Sequence: 7\r\nNats-Time-Stamp: 1970-01-01T00:00:01.5Z\r\n\r\n"
	for _, tc := range []struct {
		stored, want string
	}{
		{"", "NATS/1.0\r\n" + tail},
		{"NATS/1.0\r\n\r\n", "NATS/1.0\r\n" + tail},
		{"NATS/1.0\r\nK: v\r\n\r\n", "NATS/1.0\r\nK: v\r\n" + tail},
		{"NATS/1.0\r\nK: v\r\n", "NATS/1.0\r\nK: v\r\n" + tail},
		{"NATS/1.0\r\nK: v", "NATS/1.0\r\nK: v\r\n" + tail},
		{"garbage", "NATS/1.0\r\n" + tail},
	} {
		got := appendDirectHeaders(nil, []byte(tc.stored), "S", "a.b", 7, 1_500_000_000)
		if string(got) != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.stored, got, tc.want)
		}
	}
}

func TestHeaderValueAllocs(t *testing.T) {
	h := hdrs("A", "1", "B", "2", "Nats-Msg-Id", "x")
	if n := testing.AllocsPerRun(100, func() {
		headerValue(h, "Nats-Msg-Id")
		headerUint(h, "A")
	}); n != 0 {
		t.Fatalf("allocs %v", n)
	}
}

// FuzzHeaderValue checks that the reader never panics, that what it finds
// is a slice of the input, and that a key written by appendHeader is found.
func FuzzHeaderValue(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nK: v\r\n\r\n"), "K", "val")
	f.Add([]byte("NATS/1.0 503\r\n\r\n"), "Nats-Msg-Id", "")
	f.Add([]byte("\r\n\r\n:"), ":", "x")
	f.Add([]byte{}, "", "")
	f.Fuzz(func(t *testing.T, hdr []byte, key, val string) {
		v, ok := headerValue(hdr, key)
		if ok && len(v) > 0 && !bytes.Contains(hdr, v) {
			t.Fatalf("value %q not from input", v)
		}
		headerUint(hdr, key)
		if key == "" || bytes.ContainsAny([]byte(key), ":\r\n") || bytes.ContainsAny([]byte(val), "\r\n") {
			return
		}
		block := appendHeader([]byte("NATS/1.0\r\n"), key, val)
		block = append(block, "\r\n"...)
		got, found := headerValue(block, key)
		if !found || string(got) != string(bytes.Trim([]byte(val), " \t")) {
			t.Fatalf("wrote %q=%q, read %q %v", key, val, got, found)
		}
		appendDirectHeaders(nil, hdr, "S", "s", 1, 1)
	})
}
