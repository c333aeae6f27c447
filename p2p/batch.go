package p2p

import (
	"bufio"
	"net"
	"sync"
)

// Write batching: a peer's writer drains what is queued (up to these
// bounds) into one buffer and sends it with one system call, instead of one
// per message.
const (
	batchMaxMessages = 256
	batchMaxBytes    = 256 << 10
	batchBufferBytes = 64 << 10
)

// batchConn is a connection whose writes can be held back for the length of
// one burst of messages and then flushed together. Outside a burst it writes
// through, so control frames written by other goroutines (pongs, close)
// never wait. Every Switch connection is one, over TLS (see inboundListener
// and Switch.dialTLS), so that a burst is also sealed into few TLS records.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	buf      *bufio.Writer // allocated at the first burst
	batching bool
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		return c.buf.Write(p)
	}
	return c.Conn.Write(p)
}

func (c *batchConn) beginBatch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		c.buf = bufio.NewWriterSize(c.Conn, batchBufferBytes)
	}
	c.batching = true
}

// endBatch writes out what the burst buffered.
func (c *batchConn) endBatch() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	return c.buf.Flush()
}
