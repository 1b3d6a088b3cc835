package compress

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		in, def, on string
		rtts        []time.Duration
		want        string
		wantRTTs    []time.Duration
		err         bool
	}{
		{"", Accept, S2Fast, nil, Accept, nil, false},
		{"", S2Auto, S2Auto, nil, S2Auto, DefaultRTTThresholds(), false},
		{"on", Accept, S2Fast, nil, S2Fast, nil, false},
		{"TRUE", S2Auto, S2Auto, nil, S2Auto, DefaultRTTThresholds(), false},
		{"disabled", S2Auto, S2Auto, nil, Off, nil, false},
		{"false", S2Auto, S2Auto, nil, Off, nil, false},
		{"not_supported", S2Auto, S2Auto, nil, NotSupported, nil, false},
		{"fast", "", "", nil, S2Fast, nil, false},
		{"s2_better", "", "", nil, S2Better, nil, false},
		{"best", "", "", nil, S2Best, nil, false},
		{"uncompressed", "", "", nil, S2Uncompressed, nil, false},
		{"auto", "", "", []time.Duration{0, 20 * ms, 0}, S2Auto, []time.Duration{0, 20 * ms}, false},
		{"auto", "", "", []time.Duration{20 * ms, 10 * ms}, "", nil, true},
		{"auto", "", "", []time.Duration{0, 0}, "", nil, true},
		{"auto", "", "", []time.Duration{1, 2, 3, 4, 5}, "", nil, true},
		{"zstd", "", "", nil, "", nil, true},
	}
	for _, c := range cases {
		got, rtts, err := Normalize(c.in, c.def, c.on, c.rtts)
		if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrMode)) {
			t.Errorf("Normalize(%q): err %v", c.in, err)
			continue
		}
		if got != c.want || len(rtts) != len(c.wantRTTs) {
			t.Errorf("Normalize(%q) = %q %v, want %q %v", c.in, got, rtts, c.want, c.wantRTTs)
			continue
		}
		for i := range rtts {
			if rtts[i] != c.wantRTTs[i] {
				t.Errorf("Normalize(%q) rtts %v, want %v", c.in, rtts, c.wantRTTs)
			}
		}
	}
}

// TestSelect is the official negotiation table.
func TestSelect(t *testing.T) {
	cases := []struct{ ours, peer, want string }{
		{Accept, "", NotSupported},
		{S2Fast, NotSupported, NotSupported},
		{S2Fast, Off, Off},
		{Accept, Accept, Off},
		{S2Best, Accept, S2Best},
		{S2Auto, Accept, S2Auto},
		{Accept, S2Auto, S2Fast},
		{Accept, S2Better, S2Better},
		{S2Fast, S2Best, S2Fast},
		{S2Auto, S2Uncompressed, S2Auto},
	}
	for _, c := range cases {
		if got, err := Select(c.ours, c.peer); err != nil || got != c.want {
			t.Errorf("Select(%q, %q) = %q, %v; want %q", c.ours, c.peer, got, err, c.want)
		}
	}
	if _, err := Select(S2Fast, "lz4"); !errors.Is(err, ErrMode) {
		t.Errorf("unknown peer mode: %v", err)
	}
}

func TestAutoLevel(t *testing.T) {
	ms := time.Millisecond
	def := DefaultRTTThresholds()
	cases := []struct {
		rtt  time.Duration
		rtts []time.Duration
		want string
	}{
		{0, def, S2Uncompressed},
		{10 * ms, def, S2Uncompressed},
		{11 * ms, def, S2Fast},
		{100 * ms, def, S2Better},
		{time.Second, def, S2Best},
		{time.Millisecond, []time.Duration{0, 0, 20 * ms}, S2Better},
		{time.Second, []time.Duration{5 * ms, 20 * ms}, S2Fast},
		{time.Second, []time.Duration{5 * ms, 20 * ms, 30 * ms}, S2Best},
	}
	for _, c := range cases {
		if got := AutoLevel(c.rtt, c.rtts); got != c.want {
			t.Errorf("AutoLevel(%v, %v) = %q, want %q", c.rtt, c.rtts, got, c.want)
		}
	}
}

// TestStreamRoundTrip writes batches at every level and reads them back
// through one reader, also across a level change mid-stream.
func TestStreamRoundTrip(t *testing.T) {
	var wire bytes.Buffer
	var want []byte
	for i, level := range []string{S2Uncompressed, S2Fast, S2Better, S2Best} {
		w := NewWriter(&wire, level)
		for j := 0; j < 3; j++ {
			batch := bytes.Repeat([]byte{byte('a' + i), byte('0' + j)}, 1000*(j+1))
			if _, err := w.Write(batch); err != nil {
				t.Fatal(err)
			}
			want = append(want, batch...)
		}
	}
	if !bytes.HasPrefix(wire.Bytes(), []byte("\xff\x06\x00\x00S2sTwO")) {
		t.Fatalf("stream does not start with the S2 identifier: %q", wire.Bytes()[:10])
	}
	got, err := io.ReadAll(NewReader(&wire))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("round trip: %v, %d bytes, want %d", err, len(got), len(want))
	}
}
