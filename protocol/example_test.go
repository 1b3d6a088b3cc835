package protocol_test

import (
	"errors"
	"fmt"

	"github.com/fernmq/fern/protocol"
)

// printer is a Handler that prints each op. Frames are only valid during
// HandleOp, so anything kept must be copied (or the Frame cloned).
type printer struct{}

func (printer) HandleOp(f *protocol.Frame) error {
	switch f.Op {
	case protocol.OpPub, protocol.OpHPub:
		fmt.Printf("%s subject=%s reply=%q header=%q payload=%q\n", f.Op, f.Subject, f.Reply, f.Header(), f.Payload())
	case protocol.OpSub:
		fmt.Printf("%s subject=%s queue=%q sid=%s\n", f.Op, f.Subject, f.Queue, f.Sid)
	case protocol.OpConnect:
		fmt.Printf("%s %s\n", f.Op, f.Arg)
	default:
		fmt.Println(f.Op)
	}
	return nil
}

func Example() {
	p := protocol.NewParser(protocol.Config{}) // a server parsing a client
	// Reads may end anywhere; the parser keeps the partial op.
	reads := []string{
		"CONNECT {\"headers\":true}\r\nPING\r\nsub foo.* 1\r\nPUB foo.a _INBOX.1 5\r\nhel",
		"lo\r\nHPUB foo.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPUB foo 2000000\r\n",
	}
	for _, r := range reads {
		if err := p.Parse([]byte(r), printer{}); err != nil {
			if text, ok := protocol.ErrText(err); ok {
				fmt.Printf("reply %q and close\n", protocol.AppendErr(nil, text))
			}
			fmt.Println(errors.Is(err, protocol.ErrMaxPayload))
		}
	}

	// A server's answers.
	var out []byte
	out = protocol.AppendPong(out)
	out = protocol.AppendMsg(out, []byte("foo.a"), []byte("1"), []byte("_INBOX.1"), []byte("hello"))
	fmt.Printf("%q\n", out)
	// Output:
	// CONNECT {"headers":true}
	// PING
	// SUB subject=foo.* queue="" sid=1
	// PUB subject=foo.a reply="_INBOX.1" header="" payload="hello"
	// HPUB subject=foo.b reply="" header="NATS/1.0\r\n\r\n" payload="hi"
	// reply "-ERR 'Maximum Payload Violation'\r\n" and close
	// true
	// "PONG\r\nMSG foo.a 1 _INBOX.1 5\r\nhello\r\n"
}
