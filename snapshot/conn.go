package snapshot

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// dial opens a session for snapshot reads: UTF-8 results (text columns of
// any charset come back converted, as the binlog decoder converts them),
// TIMESTAMP values in UTC, and no lock anywhere.
func (s *Snapshotter) dial(ctx context.Context) (*client.Conn, error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	dctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	d := net.Dialer{Timeout: s.cfg.ConnectTimeout}
	c, err := s.cfg.Connector.Connect(dctx, d.DialContext)
	if err != nil {
		if schema.Explained(err) {
			return nil, err
		}
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	frameSession(c) // readRows reads the rows from it (frame.go)
	for _, q := range []string{"SET NAMES utf8mb4", "SET time_zone = '+00:00'"} {
		if _, err := c.Execute(q); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return c, nil
}

// withConn runs f and, when ctx ends first, expires c's deadline so that a
// long query returns promptly; c is unusable afterwards (the caller stops).
// SetDeadline is safe to call concurrently with reads and writes; Close is
// not (go-mysql's packet.Conn).
func withConn(ctx context.Context, c *client.Conn, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	err := f()
	if !stop() || ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// onSession runs f on a new session of the snapshot's connection settings,
// closed after it, and gives up when ctx ends (withConn).
func (s *Snapshotter) onSession(ctx context.Context, f func(c *client.Conn) error) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return withConn(ctx, c, func() error { return f(c) })
}

// Watermark returns the current end of the binlog (SHOW MASTER STATUS, or
// SHOW BINARY LOG STATUS on MySQL 8.4+): file and offset only.
func watermark(c *client.Conn) (offsets.Position, error) {
	res, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		res, err = c.Execute("SHOW BINARY LOG STATUS")
	}
	if err != nil {
		return offsets.Position{}, fmt.Errorf("read the binlog position: %w", err)
	}
	defer res.Close()
	if res.Resultset == nil || res.RowNumber() == 0 {
		return offsets.Position{}, fmt.Errorf("read the binlog position: the server has no binary log")
	}
	file, err := res.GetString(0, 0)
	if err != nil {
		return offsets.Position{}, fmt.Errorf("read the binlog position: %w", err)
	}
	pos, err := res.GetUint(0, 1)
	if err != nil {
		return offsets.Position{}, fmt.Errorf("read the binlog position: %w", err)
	}
	return offsets.Position{File: strings.Clone(file), Pos: pos}, nil
}

// stream runs query with args as a prepared statement and calls row for each
// result row; the row's values are only valid during the call.
func stream(c *client.Conn, query string, args []any, row func([]mysql.FieldValue) error) error {
	return streamWith(c, query, args, nil, row)
}

// streamRows runs query like stream and converts each result row with
// conv into the row next returns (called once per row, before the row is
// converted; a conversion error ends the read): the row path, where the
// temporal values conv decodes arrive as their binary bytes
// (converter.fields), where the rows are read by readRows rather than by
// go-mysql, and decoded by conv.decode.
func streamRows(c *client.Conn, query string, args []any, conv *converter, next func() ([]event.Value, error)) error {
	if c.Compression != mysql.MYSQL_COMPRESS_NONE {
		return streamWith(c, query, args, conv.fields, func(fv []mysql.FieldValue) error {
			dst, err := next()
			if err != nil {
				return err
			}
			return conv.row(dst, fv)
		})
	}
	err := streamWith(c, query, args, func(res *mysql.Result) error {
		if err := conv.fields(res); err != nil {
			return err
		}
		fs := res.Fields
		err := readRows(c, &conv.pkt, func(data []byte) error {
			dst, err := next()
			if err != nil {
				return err
			}
			return conv.decode(dst, data, fs)
		})
		if err != nil {
			return err
		}
		return errRowsRead
	}, func([]mysql.FieldValue) error { return errRowsRead })
	if errors.Is(err, errRowsRead) {
		return nil
	}
	return err
}

// errRowsRead is what the result-set callback of streamRows returns once
// readRows read the rows: go-mysql returns it at once, reading no more.
var errRowsRead = errors.New("rows read")

// readRows reads the binary-protocol row packets of a result set whose
// column definitions were read, up to its end (an EOF or OK packet) or an
// error packet, and calls row with each; the packet is only valid during
// the call. It is go-mysql's row loop (Conn.readResultRowsStreaming)
// reading each packet straight into pkt: go-mysql reads it into a pooled
// buffer and copies it out of it again, which per row cost more than the
// copy. A row callback's error leaves the rest of the result unread: the
// connection is unusable, as with go-mysql's loop.
func readRows(c *client.Conn, pkt *bytes.Buffer, row func(data []byte) error) error {
	fc := frameOf(c) // nil: read with go-mysql
	for {
		var data []byte
		if fc != nil {
			var err error
			if data, err = fc.packet(&c.Sequence, pkt); err != nil {
				return err
			}
		} else {
			pkt.Reset()
			if err := c.ReadPacketTo(pkt); err != nil {
				return err
			}
			data = pkt.Bytes()
		}
		if len(data) == 0 {
			return mysql.ErrMalformPacket
		}
		switch data[0] {
		case mysql.EOF_HEADER: // an EOF, or with CLIENT_DEPRECATE_EOF an OK with 0xFE: the end
			if len(data) > 0xffffff {
				return mysql.ErrMalformPacket // no row starts with 0xFE
			}
			return nil
		case mysql.ERR_HEADER:
			return errorPacket(data)
		}
		if err := row(data); err != nil {
			return err
		}
	}
}

// errorPacket decodes an ERR packet (code, then with protocol 4.1 '#' and
// the SQL state, then the message), copying its text out of the packet.
func errorPacket(data []byte) error {
	if len(data) < 3 {
		return mysql.ErrMalformPacket
	}
	e := &mysql.MyError{Code: binary.LittleEndian.Uint16(data[1:])}
	msg := data[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		e.State, msg = string(msg[1:6]), msg[6:]
	}
	e.Message = string(msg)
	return e
}

func streamWith(c *client.Conn, query string, args []any, fields client.SelectPerResultCallback, row func([]mysql.FieldValue) error) error {
	st, err := c.Prepare(query)
	if err != nil {
		return fmt.Errorf("prepare %q: %w", query, err)
	}
	defer st.Close()
	var res mysql.Result
	if err := st.ExecuteSelectStreaming(&res, row, fields, args...); err != nil {
		return fmt.Errorf("run %q: %w", query, err)
	}
	return nil
}

// quote quotes a MySQL identifier with backticks.
func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// BinlogAvailable reports whether the server still has the binlog file
// (SHOW BINARY LOGS): a stored position in a purged file cannot resume.
func (s *Snapshotter) BinlogAvailable(ctx context.Context, file string) (bool, error) {
	found := false
	err := s.onSession(ctx, func(c *client.Conn) error {
		res, err := c.Execute("SHOW BINARY LOGS")
		if err != nil {
			return fmt.Errorf("list binlogs: %w", err)
		}
		defer res.Close()
		for r := range res.RowNumber() {
			if name, err := res.GetString(r, 0); err == nil && name == file {
				found = true
			}
		}
		return nil
	})
	return found, err
}

// EstimateRows returns the server's estimate of the rows of each table
// ("db.table" -> rows) from information_schema.TABLES.TABLE_ROWS: exact
// for MyISAM/Aria, a statistics-based approximation for InnoDB (it can be
// off by tens of percent), read without touching the tables. Tables the
// server has no figure for are missing from the map.
func (s *Snapshotter) EstimateRows(ctx context.Context, tables []*schema.Table) (map[string]int64, error) {
	out := make(map[string]int64, len(tables))
	if len(tables) == 0 {
		return out, nil
	}
	err := s.onSession(ctx, func(c *client.Conn) error {
		for _, t := range tables {
			n, err := estimateRows(c, t)
			if err != nil {
				return err
			}
			if n >= 0 {
				out[t.ID()] = n
			}
		}
		return nil
	})
	return out, err
}

// estimateRows is the server's row estimate of t, -1 when it has none.
func estimateRows(c *client.Conn, t *schema.Table) (int64, error) {
	var n int64 = -1
	err := stream(c, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		[]any{t.DB, t.Name}, func(fv []mysql.FieldValue) error {
			if fv[0].Type != mysql.FieldValueTypeNull {
				n = int64(fv[0].AsUint64())
			}
			return nil
		})
	if err != nil {
		return 0, fmt.Errorf("estimate rows of %s: %w", t.ID(), err)
	}
	return n, nil
}

// Exec runs one statement with args on a new session of the snapshot's
// connection settings (e.g. `rivulet verify --repair` inserting a signal).
func (s *Snapshotter) Exec(ctx context.Context, query string, args ...any) error {
	return s.onSession(ctx, func(c *client.Conn) error {
		if _, err := c.Execute(query, args...); err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		return nil
	})
}

// NonEmpty reports, per table of tables, whether it holds a row the
// snapshot reads, in one round trip: a UNION ALL of one-row SELECTs (each
// stops at the table's first row). A table whose SELECT is overridden
// (snapshot.select.statement.overrides) is not checked and reported false:
// its override may select nothing, and may be costly to run twice.
func (s *Snapshotter) NonEmpty(ctx context.Context, tables []*schema.Table) ([]bool, error) {
	out := make([]bool, len(tables))
	var q strings.Builder
	for i, t := range tables {
		if s.cfg.Overrides[t.ID()] != "" {
			continue
		}
		if q.Len() > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "(SELECT %d FROM %s.%s LIMIT 1)", i, quote(t.DB), quote(t.Name))
	}
	if q.Len() == 0 {
		return out, nil
	}
	err := s.onSession(ctx, func(c *client.Conn) error {
		res, err := c.Execute(q.String())
		if err != nil {
			return fmt.Errorf("check which tables hold rows: %w", err)
		}
		defer res.Close()
		for r := range res.RowNumber() {
			i, err := res.GetInt(r, 0)
			if err != nil || i < 0 || int(i) >= len(out) {
				return fmt.Errorf("check which tables hold rows: unexpected row %d", r)
			}
			out[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
