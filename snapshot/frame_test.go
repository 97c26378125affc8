package snapshot

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/packet"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

// pieceConn is a net.Conn whose Read returns data in pieces of random
// sizes, then io.EOF.
type pieceConn struct {
	net.Conn // nil: only Read and SetDeadline are used
	data     []byte
	rng      *rand.Rand
}

func (p *pieceConn) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(b), 1+p.rng.IntN(300), len(p.data))
	copy(b, p.data[:n])
	p.data = p.data[n:]
	return n, nil
}

// packets returns random packets (payloads, empty and 16 MiB ones
// included when big) and their stream, sequence numbers from 0.
func packets(rng *rand.Rand, n int, big bool) (payloads [][]byte, stream []byte) {
	seq := byte(0)
	for i := range n {
		size := rng.IntN(200)
		switch {
		case i%17 == 0:
			size = 0
		case i%23 == 0:
			size = 70_000 + rng.IntN(70_000) // past frameConn's buffer
		case big && i == n/2:
			size = mysql.MaxPayloadLen + 10 // two packets
		}
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		payloads = append(payloads, p)
		for rest := p; ; {
			k := min(len(rest), mysql.MaxPayloadLen)
			stream = append(stream, byte(k), byte(k>>8), byte(k>>16), seq)
			stream = append(stream, rest[:k]...)
			seq++
			rest = rest[k:]
			if k < mysql.MaxPayloadLen {
				break
			}
		}
	}
	return payloads, stream
}

// TestFrameConn_Packets: packets read through go-mysql's reader over a
// frameConn, and from the frameConn directly, in any mix, are the packets
// sent, and go-mysql's reader holds no byte after each packet: the
// frameConn is at the next packet's start.
func TestFrameConn_Packets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	payloads, stream := packets(rng, 400, true)
	fc := &frameConn{Conn: &pieceConn{data: stream, rng: rng}, buf: make([]byte, frameBufSize)}
	pc := packet.NewConn(fc)
	var pkt, big bytes.Buffer
	for i, want := range payloads {
		var got []byte
		if rng.IntN(2) == 0 {
			pkt.Reset()
			if err := pc.ReadPacketTo(&pkt); err != nil {
				t.Fatalf("packet %d via go-mysql: %v", i, err)
			}
			got = pkt.Bytes()
		} else {
			var err error
			if got, err = fc.packet(&pc.Sequence, &big); err != nil {
				t.Fatalf("packet %d from the frameConn: %v", i, err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("packet %d: %d bytes, want %d", i, len(got), len(want))
		}
		if fc.hn != 0 || fc.rem != 0 {
			t.Fatalf("after packet %d: frameConn inside a packet (header %d, rest %d)", i, fc.hn, fc.rem)
		}
	}
	// A wrong sequence number is an error, as go-mysql's.
	_, stream = packets(rng, 2, false)
	stream[3] = 7
	fc = &frameConn{Conn: &pieceConn{data: stream, rng: rng}, buf: make([]byte, frameBufSize)}
	var seq uint8
	if _, err := fc.packet(&seq, &big); err == nil {
		t.Error("a packet out of sequence was read")
	}
}

// TestFrameConn_AnyBytes: whatever the bytes, a frameConn hands out
// exactly them, each Read returning what a plain read would without
// waiting for more.
func TestFrameConn_AnyBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 50 {
		data := make([]byte, rng.IntN(100_000))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		fc := &frameConn{Conn: &pieceConn{data: data, rng: rng}, buf: make([]byte, frameBufSize)}
		got, err := io.ReadAll(fc)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes of %d, %v", len(got), len(data), err)
		}
	}
}

// tlsConnector connects with TLS, compression, and through a wrapper of
// the dialled connection (as config's, which peeks at the greeting), as
// asked.
type tlsConnector struct {
	addr, user, password string
	tls                  *tls.Config
	compress             bool
	wrap                 bool
}

// wrappedConn is a connection wrapped by a Connector.
type wrappedConn struct{ net.Conn }

func (c tlsConnector) Connect(ctx context.Context, dialer client.Dialer, opts ...client.Option) (*client.Conn, error) {
	if c.wrap {
		dial := dialer
		dialer = func(ctx context.Context, network, address string) (net.Conn, error) {
			nc, err := dial(ctx, network, address)
			if err != nil {
				return nil, err
			}
			return &wrappedConn{nc}, nil
		}
	}
	set := func(cc *client.Conn) error {
		if c.tls != nil {
			cc.SetTLSConfig(c.tls)
		}
		if c.compress {
			cc.SetCapability(mysql.CLIENT_COMPRESS)
		}
		return nil
	}
	return client.ConnectWithDialer(ctx, "tcp", c.addr, c.user, c.password, "", dialer, append([]client.Option{set}, opts...)...)
}

// TestSnapshotter_Sessions reads the same rows over a plain session (the
// rows from the frameConn), TLS, compression and both (go-mysql's reader):
// the same chunks, values and all.
func TestSnapshotter_Sessions(t *testing.T) {
	certs := testenv.TLSCerts(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(cert, []byte(certs.ServerCertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte(certs.ServerKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartMariaDB(t, testenv.WithTLS(certs.CAFile, cert, key))
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE a (id INT PRIMARY KEY, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`,
		`CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)`,
		"INSERT INTO big VALUES (1, REPEAT('x', 200000)), (2, NULL), (3, REPEAT('y', 70000))")
	fill(t, srv, db, "a", 3000)
	tables := loadTables(t, srv, db)
	tlsCfg := &tls.Config{RootCAs: certs.Pool, ServerName: "127.0.0.1"}
	var want [][]any
	for _, sess := range []struct {
		name     string
		tls      bool
		compress bool
		wrap     bool
		framed   bool
	}{{"plain", false, false, false, true}, {"wrapped", false, false, true, true}, {"tls", true, false, false, false},
		{"tls+wrapped", true, false, true, false}, {"compress", false, true, false, false}, {"tls+compress", true, true, false, false}} {
		cn := tlsConnector{addr: srv.Addr(), user: srv.User, password: srv.Password, compress: sess.compress, wrap: sess.wrap}
		if sess.tls {
			cn.tls = tlsCfg
		}
		s, err := New(Config{Connector: cn, ChunkSize: 500, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.dial(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", sess.name, err)
		}
		if got := frameOf(c) != nil; got != sess.framed {
			t.Errorf("%s: rows read from the frameConn %v, want %v", sess.name, got, sess.framed)
		}
		_ = c.Close()
		var got [][]any
		for _, ch := range collect(t, s, tables, Progress{}) {
			for _, r := range ch.Rows {
				row := []any{ch.Table.Name}
				for _, v := range r {
					row = append(row, v.Kind, v.I, string(v.B))
				}
				got = append(got, row)
			}
		}
		if len(got) != 3003 {
			t.Fatalf("%s: %d rows, want 3003", sess.name, len(got))
		}
		if want == nil {
			want = got
			continue
		}
		for i := range want {
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Fatalf("%s: row %d differs from the plain session's: %v", sess.name, i, got[i][:min(len(got[i]), 8)])
				}
			}
		}
	}
}

// Compile-time check: the TLS connector is a schema.Connector.
var _ schema.Connector = tlsConnector{}
