package interop

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxy is a TCP relay in front of a server's route port. Connections it
// accepts wait until the gate is opened, then are relayed to the target,
// and every byte relayed is recorded, so a test can hold back one route
// connection and show the wire exchange when something goes wrong.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	gate   chan struct{}
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns int
	ended int          // accepted connections that are over
	live  map[int]bool // relayed connections not yet ended
	wire  []wireLog    // in arrival order
	socks []net.Conn
}

// wireLog is what one side of one relayed connection sent.
type wireLog struct {
	at   time.Time
	conn int
	dir  string // "->" toward the target, "<-" back
	data []byte
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, gate: make(chan struct{}),
		quit: make(chan struct{}), live: make(map[int]bool)}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

// URL is the route URL that reaches the target through the proxy.
func (p *proxy) URL() string { return "nats-route://" + p.ln.Addr().String() }

// open lets held and future connections through.
func (p *proxy) open() { p.once.Do(func() { close(p.gate) }) }

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns++
		id := p.conns
		p.socks = append(p.socks, c)
		p.mu.Unlock()
		p.wg.Add(1)
		go p.relay(id, c)
	}
}

func (p *proxy) relay(id int, c net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		p.ended++
		p.mu.Unlock()
	}()
	defer c.Close()
	select {
	case <-p.gate:
	case <-p.quit:
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	p.mu.Lock()
	p.socks = append(p.socks, up)
	p.live[id] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.live, id)
		p.wire = append(p.wire, wireLog{time.Now(), id, "x", []byte("(connection closed)")})
		p.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	go p.pipe(id, "->", up, c, done)
	go p.pipe(id, "<-", c, up, done)
	<-done // one side ended: end both
	c.Close()
	up.Close()
	<-done
}

func (p *proxy) pipe(id int, dir string, dst, src net.Conn, done chan<- struct{}) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			p.wire = append(p.wire, wireLog{time.Now(), id, dir, bytes.Clone(buf[:n])})
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	done <- struct{}{}
}

// state is how many connections the proxy accepted, how many of those are
// over, and the ids of those being relayed now, in order.
func (p *proxy) state() (accepted, ended int, live []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns, p.ended, slices.Sorted(maps.Keys(p.live))
}

// transcript renders what the proxies recorded in time order, one
// protocol line per row (long lines shortened), each row naming the proxy
// and its connection: "toO#2 ->" is bytes toward the target of proxy toO
// on its second connection, "<-" the answer.
func transcript(names []string, proxies []*proxy) string {
	type row struct {
		wireLog
		name string
	}
	var rows []row
	for i, p := range proxies {
		p.mu.Lock()
		for _, w := range p.wire {
			rows = append(rows, row{w, names[i]})
		}
		p.mu.Unlock()
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.at.Compare(b.at) })
	var b strings.Builder
	sysSubs := 0
	for _, r := range rows {
		for _, line := range strings.SplitAfter(string(r.data), "\r\n") {
			line = strings.TrimSuffix(line, "\r\n")
			if line == "" {
				continue
			}
			if strings.HasPrefix(line, "RS+ $SYS ") {
				sysSubs++ // the official server's system interest: noise here
				continue
			}
			if len(line) > 140 {
				line = line[:140] + "…"
			}
			line = strings.Map(func(r rune) rune {
				if r < ' ' {
					return '.'
				}
				return r
			}, line)
			fmt.Fprintf(&b, "%s %s#%d %s %s\n", r.at.Format("05.000000"), r.name, r.conn, r.dir, line)
		}
	}
	fmt.Fprintf(&b, "(%d RS+ $SYS lines left out)\n", sysSubs)
	return b.String()
}

func (p *proxy) close() {
	close(p.quit)
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.socks {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// lines returns the protocol lines relayed in direction dir ("->" or
// "<-") over all connections, in order per connection (payload lines
// included).
func (p *proxy) lines(dir string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	streams := map[int][]byte{}
	var order []int
	for _, w := range p.wire {
		if w.dir != dir {
			continue
		}
		if _, ok := streams[w.conn]; !ok {
			order = append(order, w.conn)
		}
		streams[w.conn] = append(streams[w.conn], w.data...)
	}
	var out []string
	for _, id := range order {
		for _, l := range strings.Split(string(streams[id]), "\r\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}
