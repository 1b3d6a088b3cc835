package protocol

import "testing"

// switchHandler turns the connection into a leaf after CONNECT, as the
// server does on its client port.
type switchHandler struct {
	p   *Parser
	ops []Op
}

func (h *switchHandler) HandleOp(f *Frame) error {
	h.ops = append(h.ops, f.Op)
	if f.Op == OpConnect {
		h.p.SetAccept(LeafOps)
		h.p.SetMaxControlLine(16 * DefaultMaxControlLine)
	}
	return nil
}

func TestSetAcceptSwitchesMidBuffer(t *testing.T) {
	in := "CONNECT {}\r\nLS+ foo\r\nLMSG foo 2\r\nhi\r\nHMSG foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
	for split := 0; split <= len(in); split++ {
		p := NewParser(Config{Accept: ClientOps})
		h := &switchHandler{p: p}
		if err := p.Parse([]byte(in[:split]), h); err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		if err := p.Parse([]byte(in[split:]), h); err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		want := []Op{OpConnect, OpLSub, OpLMsg, OpLHMsg}
		if len(h.ops) != len(want) {
			t.Fatalf("split %d: ops %v", split, h.ops)
		}
		for i := range want {
			if h.ops[i] != want[i] {
				t.Fatalf("split %d: ops %v, want %v", split, h.ops, want)
			}
		}
	}
	// Without the switch, LS+ on a client connection is an error.
	p := NewParser(Config{Accept: ClientOps})
	if err := p.Parse([]byte("LS+ foo\r\n"), &switchHandler{p: p}); err == nil {
		t.Fatal("LS+ accepted on a client connection")
	}
}
