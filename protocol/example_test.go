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

// routeHandler prints route ops; a message's queue groups are iterated
// without allocating.
type routeHandler struct{}

func (routeHandler) HandleOp(f *protocol.Frame) error {
	switch f.Op {
	case protocol.OpRSub:
		fmt.Printf("%s account=%s subject=%s queue=%q weight=%d\n", f.Op, f.Account, f.Subject, f.Queue, f.Weight)
	case protocol.OpRMsg:
		fmt.Printf("%s account=%s subject=%s reply=%q payload=%q\n", f.Op, f.Account, f.Subject, f.Reply, f.Payload())
		for q, rest := protocol.NextQueue(f.QueueList); q != nil; q, rest = protocol.NextQueue(rest) {
			fmt.Printf("  deliver to one member of %s\n", q)
		}
	default:
		fmt.Println(f.Op)
	}
	return nil
}

func Example_route() {
	// A route parser: 16x the client control line limit, no payload limit.
	p := protocol.NewParser(protocol.Config{
		Accept:         protocol.RouteOps,
		MaxControlLine: 16 * protocol.DefaultMaxControlLine,
		MaxPayload:     -1,
	})
	in := "PING\r\nRS+ $G orders.* workers 2\r\nRMSG $G orders.new + _INBOX.1 workers audit 2\r\nhi\r\n"
	if err := p.Parse([]byte(in), routeHandler{}); err != nil {
		fmt.Println(err)
	}
	// What a server sends to a route peer and to a leaf.
	out := protocol.AppendRSub(nil, []byte("$G"), []byte("orders.*"), []byte("workers"), 3)
	out = protocol.AppendLMsgHeader(out, []byte("orders.new"), nil, []byte("workers"), 2)
	fmt.Printf("%q\n", out)
	// Output:
	// PING
	// RS+ account=$G subject=orders.* queue="workers" weight=2
	// RMSG account=$G subject=orders.new reply="_INBOX.1" payload="hi"
	//   deliver to one member of workers
	//   deliver to one member of audit
	// "RS+ $G orders.* workers 3\r\nLMSG orders.new | workers 2\r\n"
}
