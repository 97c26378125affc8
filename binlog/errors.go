package binlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Sentinels for the conditions callers branch on. Errors returned by this
// package wrap one of them (errors.Is) and, for server errors, carry an
// *Error with a Hint saying how to fix the problem.
var (
	// ErrConfig: Config is invalid (see the message for the field).
	ErrConfig = errors.New("invalid binlog reader configuration")
	// ErrCorruptEvent: an event or row image could not be decoded (truncated,
	// out-of-range field, unknown type code).
	ErrCorruptEvent = errors.New("corrupt binlog event")
	// ErrSchemaMismatch: a TABLE_MAP event does not match the schema.Table that
	// Config.Tables returned (column count or an incompatible column type).
	ErrSchemaMismatch = errors.New("binlog table map does not match table schema")
	// ErrStatementBased: the server logs DML as statements (binlog_format is
	// not ROW); row changes cannot be captured.
	ErrStatementBased = errors.New("statement-based binlog event")
	// ErrUnsupported: a feature of the binlog that Rivulet cannot decode
	// (partial JSON updates, an unknown character set, an unknown column type).
	ErrUnsupported = errors.New("unsupported binlog feature")
	// ErrPositionNotFound: the server cannot serve the stored position (binlog
	// purged, file missing, GTIDs purged) — server error 1236.
	ErrPositionNotFound = errors.New("binlog position not available on server")
	// ErrAccessDenied: authentication failed (server error 1045).
	ErrAccessDenied = errors.New("access denied")
	// ErrPrivileges: the user lacks REPLICATION SLAVE / REPLICATION CLIENT or
	// another needed privilege (server errors 1227, 1044, 1142).
	ErrPrivileges = errors.New("missing privileges")
	// ErrNoRowMetadata: a TABLE_MAP event lacks the optional metadata a
	// step needs (column names, character sets, ENUM/SET members): the server
	// logs binlog_row_metadata=MINIMAL.
	ErrNoRowMetadata = errors.New("binlog table map without full row metadata")
	// ErrServerID: another replica uses the same server id or server uuid.
	ErrServerID = errors.New("replica server id in use")
)

// Error is a failure with the data needed to act on it: the sentinel it
// belongs to, what happened, the server error code when there is one, and a
// hint naming the fix. It unwraps to both Kind and the underlying cause.
type Error struct {
	Kind error  // one of the sentinels above
	Msg  string // what happened, naming the position or table
	Code uint16 // MySQL/MariaDB error code, 0 when not a server error
	Hint string // how to fix it
	Err  error  // underlying cause, may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Message is the error's text without its hint, for callers that print
// the hint on a line of its own (`rivulet check`, `rivulet offsets`).
func (e *Error) Message() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// corrupt returns an ErrCorruptEvent error with a formatted message.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptEvent}, args...)...)
}

// errTruncated is returned by decoders reading past the end of their input.
var errTruncated = fmt.Errorf("%w: truncated data", ErrCorruptEvent)

// serverCode extracts a MySQL error code from err, 0 if there is none.
func serverCode(err error) uint16 {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	// Some go-mysql paths flatten the server error into text ("ERROR 1236 (HY000): ...").
	if c := mysql.ErrorCode(err.Error()); c > 0 {
		return uint16(c)
	}
	return 0
}

// mapServerError turns a server error met while connecting or streaming from
// pos into an *Error naming the problem and the fix. Errors that are not
// server errors are returned unchanged.
func mapServerError(err error, pos string) error {
	code := serverCode(err)
	switch code {
	case 0:
		return err
	case mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG: // 1236
		msg := strings.ToLower(err.Error())
		if strings.Contains(msg, "same server_uuid") || strings.Contains(msg, "same server_id") ||
			strings.Contains(msg, "server id") && strings.Contains(msg, "same") {
			return &Error{Kind: ErrServerID, Code: code, Err: err,
				Msg:  "another replica is connected with the same server id",
				Hint: "give this connector a unique database.server.id (server ids must differ across all replicas and connectors of this source)"}
		}
		return &Error{Kind: ErrPositionNotFound, Code: code, Err: err,
			Msg: "the server cannot stream from the stored position " + pos,
			Hint: "the binlog file or GTIDs it needs were probably purged (check binlog_expire_logs_seconds / expire_logs_days); " +
				"either restore the missing binlogs, or delete the stored offsets and start with a new snapshot " +
				"(snapshot.mode=when_needed does this automatically)"}
	case mysql.ER_ACCESS_DENIED_ERROR: // 1045
		return &Error{Kind: ErrAccessDenied, Code: code, Err: err,
			Msg:  "the server rejected the user name or password",
			Hint: "check database.user and database.password, and that the user may connect from this host"}
	case mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, mysql.ER_DBACCESS_DENIED_ERROR, mysql.ER_TABLEACCESS_DENIED_ERROR: // 1227, 1044, 1142
		return &Error{Kind: ErrPrivileges, Code: code, Err: err,
			Msg:  "the user lacks a privilege needed to read the binlog",
			Hint: "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the connector user (MariaDB ≥10.5: BINLOG MONITOR, REPLICATION SLAVE ADMIN as well)"}
	}
	return err
}

// Retryable server error codes: the server is going away or the network broke.
var retryableCodes = map[uint16]bool{
	1040: true,                                     // ER_CON_COUNT_ERROR: too many connections
	1053: true,                                     // ER_SERVER_SHUTDOWN
	1077: true,                                     // ER_NORMAL_SHUTDOWN
	1078: true,                                     // ER_GOT_SIGNAL
	1079: true,                                     // ER_SHUTDOWN_COMPLETE
	1152: true,                                     // ER_ABORTING_CONNECTION
	1153: true,                                     // ER_NET_PACKET_TOO_LARGE
	1154: true,                                     // ER_NET_READ_ERROR_FROM_PIPE
	1156: true,                                     // ER_NET_FCNTL_ERROR
	1157: true,                                     // ER_NET_PACKETS_OUT_OF_ORDER
	1158: true,                                     // ER_NET_READ_ERROR
	1159: true,                                     // ER_NET_READ_INTERRUPTED
	1160: true,                                     // ER_NET_ERROR_ON_WRITE
	1161: true,                                     // ER_NET_WRITE_INTERRUPTED
	1205: true,                                     // ER_LOCK_WAIT_TIMEOUT
	1927: true,                                     // ER_CONNECTION_KILLED (MariaDB)
	2002: true, 2003: true, 2006: true, 2013: true, // client: can't connect, server gone, lost connection
}

// IsRetryable reports whether err is a transient failure (network drop, EOF,
// timeout, server restart) after which reconnecting may succeed. Decoding,
// schema, privilege and position errors are fatal.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, fatal := range []error{ErrConfig, ErrCorruptEvent, ErrSchemaMismatch, ErrStatementBased,
		ErrUnsupported, ErrPositionNotFound, ErrAccessDenied, ErrPrivileges, ErrServerID, ErrDDL, ErrNoRowMetadata} {
		if errors.Is(err, fatal) {
			return false
		}
	}
	if code := serverCode(err); code != 0 {
		return retryableCodes[code]
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, mysql.ErrBadConn) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// go-mysql flattens some network errors into text.
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"eof", "connection refused", "connection reset", "broken pipe",
		"i/o timeout", "connection was bad", "use of closed network connection", "no route to host",
		"sync was closed", "lost connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
