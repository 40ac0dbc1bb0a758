package web

import (
	"net"
	"sync"
	"time"
)

// uploadLimits are the read deadlines of an upload: idle bounds the silence
// between two reads, max the whole transfer.
type uploadLimits struct {
	idle, max time.Duration
}

// idleListener hands out idleConns. fasthttp knows only a whole-request
// ReadTimeout, which cuts a receipt arriving steadily over a rural link;
// the connection itself is the one place a deadline can be pushed forward
// at every read.
type idleListener struct{ net.Listener }

// Accept wraps the next connection.
func (l idleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &idleConn{Conn: c}, nil
}

// idleConn is a connection whose read deadline, while an upload streams,
// is moved to now + idle before every read (never past the upload's
// ceiling). Deadlines fasthttp sets meanwhile are remembered and applied
// once the upload's handler returns.
type idleConn struct {
	net.Conn

	mu     sync.Mutex
	limits uploadLimits
	until  time.Time // the upload's ceiling; zero when no upload streams
	asked  time.Time // the read deadline fasthttp last set
}

// stream switches c to idle deadlines for an upload starting now.
func (c *idleConn) stream(l uploadLimits) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limits, c.until = l, time.Now().Add(l.max)
}

// endStream returns c to the server's deadlines. The one fasthttp set at
// the start of the request has usually passed by now; the rest of the body
// and the answer still get one idle period, and fasthttp sets the next
// request's deadline itself.
func (c *idleConn) endStream() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.until = time.Time{}
	d := c.asked
	if grace := time.Now().Add(c.limits.idle); !d.IsZero() && d.Before(grace) {
		d = grace
	}
	_ = c.Conn.SetReadDeadline(d)
}

// Read reads under the idle deadline while an upload streams.
func (c *idleConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if !c.until.IsZero() {
		d := time.Now().Add(c.limits.idle)
		if d.After(c.until) {
			d = c.until
		}
		if err := c.Conn.SetReadDeadline(d); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// SetReadDeadline records fasthttp's deadline and applies it unless an
// upload streams.
func (c *idleConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = t
	if !c.until.IsZero() {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sets both deadlines, the read one as SetReadDeadline does.
func (c *idleConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}
