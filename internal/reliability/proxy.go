package reliability

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy is a TCP proxy on 127.0.0.1 in front of target (the database) for
// network faults: Reset drops every connection (as toxiproxy's reset_peer
// or a killed dump thread), Blackhole swallows bytes without closing
// anything (toxiproxy's timeout toxic with no timeout: a silent network).
type Proxy struct {
	ln     net.Listener
	target string
	hole   atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy listens on an ephemeral loopback port and forwards to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Port is the proxy's listening port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst, dropping the bytes while the black hole is on.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.hole.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				hardClose(dst)
			}
			_ = dst.Close()
			_ = src.Close()
			p.mu.Lock()
			delete(p.conns, src)
			delete(p.conns, dst)
			p.mu.Unlock()
			return
		}
	}
}

// hardClose closes c with a TCP RST instead of a FIN.
func hardClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// Reset closes every open connection with a TCP reset; new connections are
// accepted as before. It returns how many connections it cut.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		hardClose(c)
		delete(p.conns, c)
		n++
	}
	return n / 2
}

// Blackhole turns the silent network on or off: while on, connections stay
// open (and new ones are accepted) but no byte goes through either way.
func (p *Proxy) Blackhole(on bool) { p.hole.Store(on) }

// Close stops the proxy and its connections.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// Gate wraps the listeners of a kfake cluster (kfake.ListenFn) so that the
// brokers can be stalled (requests are neither read nor answered, nothing
// is closed: a hung broker) or taken down (every connection is reset and
// new ones are closed at once: brokers stopped) while their data stays.
type Gate struct {
	mu      sync.Mutex
	stalled bool
	down    bool
	open    chan struct{} // closed while not stalled
	conns   map[*gateConn]struct{}
}

// NewGate returns an open gate.
func NewGate() *Gate {
	g := &Gate{open: make(chan struct{}), conns: map[*gateConn]struct{}{}}
	close(g.open)
	return g
}

// Listen is a kfake.ListenFn.
func (g *Gate) Listen(network, address string) (net.Listener, error) {
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return &gateListener{Listener: l, g: g}, nil
}

// Stall holds (true) or releases (false) every broker connection.
func (g *Gate) Stall(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if on == g.stalled {
		return
	}
	g.stalled = on
	if on {
		g.open = make(chan struct{})
	} else {
		close(g.open)
	}
}

// Down takes the brokers down (true: every connection is reset, new ones
// are closed at once) or brings them back (false).
func (g *Gate) Down(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = on
	if on {
		for c := range g.conns {
			hardClose(c.Conn)
			close(c.closed)
		}
		clear(g.conns)
	}
}

func (g *Gate) wait(c *gateConn) error {
	for {
		g.mu.Lock()
		stalled, open := g.stalled, g.open
		g.mu.Unlock()
		if !stalled {
			return nil
		}
		select {
		case <-open:
		case <-c.closed:
			return net.ErrClosed
		}
	}
}

type gateListener struct {
	net.Listener
	g *Gate
}

func (l *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.g.mu.Lock()
		if l.g.down {
			l.g.mu.Unlock()
			hardClose(c)
			continue
		}
		gc := &gateConn{Conn: c, g: l.g, closed: make(chan struct{})}
		l.g.conns[gc] = struct{}{}
		l.g.mu.Unlock()
		return gc, nil
	}
}

type gateConn struct {
	net.Conn
	g      *Gate
	closed chan struct{}
}

func (c *gateConn) Read(b []byte) (int, error) {
	if err := c.g.wait(c); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *gateConn) Write(b []byte) (int, error) {
	if err := c.g.wait(c); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *gateConn) Close() error {
	c.g.mu.Lock()
	if _, ok := c.g.conns[c]; ok {
		delete(c.g.conns, c)
		close(c.closed)
	}
	c.g.mu.Unlock()
	return c.Conn.Close()
}
