package snapshot

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// Reading row packets without go-mysql's per-packet work
//
// go-mysql reads each packet through its buffered reader with two copies
// and a pooled buffer (packet.Conn.ReadPacketTo): 38 ns a packet, where
// reading it in place from a buffer takes 13, and a snapshot reads one
// packet per row. frameConn goes between go-mysql and the session's
// connection once the handshake is done (frameSession): it buffers what
// the socket returns and hands go-mysql's reader at most the rest of the
// current MySQL packet per Read, so that go-mysql's buffer is empty
// whenever go-mysql has read a whole packet. readRows can then take the
// result's row packets straight from frameConn's buffer (packet), keeping
// go-mysql's sequence number. Sessions with TLS or compression, whose
// bytes are not plain packets, keep go-mysql's reader alone.

// frameBufSize is frameConn's buffer: the size of go-mysql's.
const frameBufSize = 64 << 10

// frameConn is a snapshot session's connection below go-mysql's reader.
// That the reader holds no byte once it read a whole packet relies on it
// reading a packet's header, then its payload, and no further (v1.16.0's
// packet.Conn; TestFrameConn_Packets checks it).
type frameConn struct {
	net.Conn
	buf  []byte // buf[r:w] read from the socket, not yet handed out
	r, w int
	hdr  [4]byte // the current packet's header, hn bytes of it handed out
	hn   int
	rem  int // bytes of the current packet's payload not handed out
}

// frameSession puts a frameConn below c's reader when c is a plain
// session (neither TLS nor compression). Call it right after the
// handshake: the server then sends nothing until the next command, so
// go-mysql's reader holds no byte and the next one read starts a packet.
// go-mysql reads through the connection it holds at each read.
func frameSession(c *client.Conn) {
	if c.Compression != mysql.MYSQL_COMPRESS_NONE {
		return
	}
	switch c.Conn.Conn.(type) {
	case *tls.Conn, *frameConn, nil:
		return
	}
	c.Conn.Conn = &frameConn{Conn: c.Conn.Conn, buf: make([]byte, frameBufSize)}
}

// frameOf returns c's frameConn when readRows may read packets from it:
// a plain session (frameSession) at a packet's start.
func frameOf(c *client.Conn) *frameConn {
	fc, ok := c.Conn.Conn.(*frameConn)
	if !ok || fc.hn != 0 || fc.rem != 0 || c.Compression != mysql.MYSQL_COMPRESS_NONE {
		return nil
	}
	return fc
}

// Read hands out buffered bytes, reading the socket once when none are,
// and never past the end of the current packet. It blocks no longer than
// a plain read would, whatever the bytes are.
func (fc *frameConn) Read(p []byte) (int, error) {
	if fc.r == fc.w {
		fc.r, fc.w = 0, 0
		m, err := fc.Conn.Read(fc.buf)
		fc.w = m
		if m == 0 {
			return 0, err
		}
	}
	n := 0
	if fc.rem == 0 { // at the header, or part of it
		k := copy(p, fc.buf[fc.r:min(fc.w, fc.r+4-fc.hn)])
		copy(fc.hdr[fc.hn:], fc.buf[fc.r:fc.r+k])
		fc.r += k
		fc.hn += k
		n = k
		if fc.hn < 4 {
			return n, nil
		}
		fc.hn = 0
		fc.rem = int(fc.hdr[0]) | int(fc.hdr[1])<<8 | int(fc.hdr[2])<<16
		if fc.rem == 0 {
			return n, nil // an empty payload
		}
	}
	k := copy(p[n:], fc.buf[fc.r:min(fc.w, fc.r+fc.rem)])
	fc.r += k
	fc.rem -= k
	return n + k, nil
}

// fill reads from the socket until n bytes are buffered, moving them to
// the buffer's start or growing it when they do not fit.
func (fc *frameConn) fill(n int) error {
	if fc.w-fc.r >= n {
		return nil
	}
	if fc.r+n > len(fc.buf) {
		if n > len(fc.buf) {
			nb := make([]byte, max(n, 2*len(fc.buf)))
			fc.w = copy(nb, fc.buf[fc.r:fc.w])
			fc.buf = nb
		} else {
			fc.w = copy(fc.buf, fc.buf[fc.r:fc.w])
		}
		fc.r = 0
	}
	for fc.w-fc.r < n {
		m, err := fc.Conn.Read(fc.buf[fc.w:])
		fc.w += m
		if err != nil && fc.w-fc.r < n {
			return err
		}
	}
	return nil
}

// packet returns the payload of the next packet, checking and advancing
// the session's sequence number as go-mysql does; it is valid until the
// next call. A payload of several packets (16 MiB and more) is joined in
// big.
func (fc *frameConn) packet(seq *uint8, big *bytes.Buffer) ([]byte, error) {
	var joined bool
	for {
		if err := fc.fill(4); err != nil {
			return nil, fmt.Errorf("%w: read packet header: %w", mysql.ErrBadConn, err)
		}
		h := fc.buf[fc.r : fc.r+4]
		n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
		if h[3] != *seq {
			return nil, fmt.Errorf("invalid sequence %d != %d", h[3], *seq)
		}
		*seq++
		if err := fc.fill(4 + n); err != nil {
			return nil, fmt.Errorf("%w: read packet: %w", mysql.ErrBadConn, err)
		}
		data := fc.buf[fc.r+4 : fc.r+4+n : fc.r+4+n]
		fc.r += 4 + n
		if n < mysql.MaxPayloadLen && !joined {
			return data, nil
		}
		if !joined {
			big.Reset()
			joined = true
		}
		big.Write(data)
		if n < mysql.MaxPayloadLen {
			return big.Bytes(), nil
		}
	}
}
