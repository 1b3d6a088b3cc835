package fern

import (
	"net"
	"sync"
)

// The outbound queue of a connection is a chain of fixed-size blocks
// from the server's block pool, not one growing buffer. A producer
// appends into the tail block (c.out) after roomLocked made room for the
// whole message, so a queue never regrows or copies what it holds, and
// the blocks go back to the pool once written. c.outFull holds the full
// blocks ahead of the tail, in order; c.outFullLen is their byte count.
//
// Queueing one message: roomLocked(n) finds the tail too small, moves it
// to c.outFull and takes a block from the pool; the message is appended
// to the new tail; the writer later takes the whole chain (takeOutLocked),
// writes it with writev in maxWriteChunk pieces and returns every pooled
// block (returnBlocks).
//
// Paths that append without roomLocked (control lines, interest floods)
// may grow the tail past a block; such a buffer is written like any
// other and left to the garbage collector.

// outBlockSize is the size of one pooled outbound block.
const outBlockSize = 64 << 10

// msgLineSlack bounds what a message line adds to its subject, sid,
// reply, queues and payload: the op, separators, sizes and CRLFs.
const msgLineSlack = 64

// maxPooledBlocks bounds the pool: 32 MiB of free blocks at most.
const maxPooledBlocks = 512

// blockPool is the server's free list of outbound blocks. It gives back
// to the garbage collector every block that stayed unused for a whole
// trim period (trim), so the pool follows the load down after a burst.
type blockPool struct {
	mu   sync.Mutex
	free [][]byte
	low  int // fewest free blocks since the last trim
}

func (p *blockPool) get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.low = min(p.low, n-1)
		p.mu.Unlock()
		return b
	}
	p.low = 0
	p.mu.Unlock()
	return make([]byte, 0, outBlockSize)
}

// put returns the pooled blocks among bufs (cap == outBlockSize) and
// clears bufs.
func (p *blockPool) put(bufs [][]byte) {
	p.mu.Lock()
	for i, b := range bufs {
		if cap(b) == outBlockSize && len(p.free) < maxPooledBlocks {
			p.free = append(p.free, b[:0])
		}
		bufs[i] = nil
	}
	p.mu.Unlock()
}

// putOne returns b when it is a pooled block.
func (p *blockPool) putOne(b []byte) {
	if cap(b) != outBlockSize {
		return
	}
	p.mu.Lock()
	if len(p.free) < maxPooledBlocks {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}

// trim drops the blocks nobody took since the last trim and reports how
// many bytes it dropped.
func (p *blockPool) trim() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.low
	if n > 0 {
		// The bottom n blocks were not touched during the period.
		rest := copy(p.free, p.free[n:])
		clear(p.free[rest:])
		p.free = p.free[:rest]
	}
	if len(p.free) == 0 {
		p.free = nil
	}
	p.low = len(p.free)
	return n * outBlockSize
}

// roomLocked makes sure n more bytes fit in the tail block, starting a
// new block when they do not (c.mu held).
func (c *client) roomLocked(n int) {
	if cap(c.out)-len(c.out) >= n {
		return
	}
	if len(c.out) > 0 {
		c.outFull = append(c.outFull, c.out)
		c.outFullLen += len(c.out)
	}
	if n > outBlockSize {
		c.out = make([]byte, 0, n)
		return
	}
	c.out = c.srv.blocks.get()
}

// queuedLocked is the number of bytes queued and not yet taken by the
// writer (c.mu held).
func (c *client) queuedLocked() int { return c.outFullLen + len(c.out) }

// takeOutLocked moves the whole queue into bufs (the writer's) and
// empties it (c.mu held).
func (c *client) takeOutLocked(bufs [][]byte) ([][]byte, int) {
	n := c.queuedLocked()
	bufs = append(bufs, c.outFull...)
	clear(c.outFull)
	c.outFull, c.outFullLen = c.outFull[:0], 0
	if len(c.out) > 0 {
		bufs = append(bufs, c.out)
		c.out = nil
	}
	return bufs, n
}

// prependLocked puts b back at the head of the queue (c.mu held).
func (c *client) prependLocked(b []byte) {
	if len(b) == 0 {
		return
	}
	c.outFull = append(c.outFull, nil)
	copy(c.outFull[1:], c.outFull)
	c.outFull[0] = b
	c.outFullLen += len(b)
}

// dropOutLocked forgets everything queued and returns the blocks
// (c.mu held).
func (c *client) dropOutLocked() {
	c.srv.blocks.put(c.outFull)
	c.srv.blocks.putOne(c.out)
	c.outFull, c.outFullLen, c.out = nil, 0, nil
}

// outCursor walks a taken queue for the writer: the next chunk of at
// most maxWriteChunk bytes as a writev vector.
type outCursor struct {
	bufs [][]byte
	i    int // current block
	off  int // bytes of it already written
	vec  net.Buffers
	back [16][]byte // vec's storage, so a write allocates nothing
}

func (oc *outCursor) done() bool { return oc.i >= len(oc.bufs) }

// chunk returns the next piece to write; writing consumes oc.vec.
func (oc *outCursor) chunk() *net.Buffers {
	oc.vec = oc.back[:0]
	size := 0
	for i := oc.i; i < len(oc.bufs) && size < maxWriteChunk && len(oc.vec) < len(oc.back); i++ {
		b := oc.bufs[i]
		if i == oc.i {
			b = b[oc.off:]
		}
		if size+len(b) > maxWriteChunk {
			b = b[:maxWriteChunk-size]
		}
		oc.vec = append(oc.vec, b)
		size += len(b)
	}
	return &oc.vec
}

// reset forgets the taken queue once written.
func (oc *outCursor) reset() {
	clear(oc.back[:])
	oc.bufs, oc.i, oc.off, oc.vec = nil, 0, 0, nil
}

// advance moves the cursor past n written bytes.
func (oc *outCursor) advance(n int) {
	for oc.i < len(oc.bufs) {
		rem := len(oc.bufs[oc.i]) - oc.off
		if n < rem {
			oc.off += n
			return
		}
		n -= rem
		oc.i++
		oc.off = 0
	}
}
