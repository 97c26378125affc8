package binlog

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/schema"
)

// ErrDDL reports a DDL statement the schema model could not take (a
// *schema.DDLError inside names position, statement and tables). Fatal.
var ErrDDL = errors.New("DDL not applied to the schema model")

// DDLApplier moves the schema model past one DDL statement (schema.Tracker).
// The Reader calls it from its loop, in binlog order, for every Query event
// that is not a transaction boundary or a row change, before any later row
// event is decoded: Tables then returns the table as of that position. A nil
// Change means the statement changed nothing worth recording. An error stops
// the stream (schema.Tracker returns nil, nil for statements its
// configuration says to skip).
type DDLApplier interface {
	ApplyDDL(ctx context.Context, d schema.DDL) (*schema.Change, error)
}

// Query event status variables (MySQL log_event.h, MariaDB log_event.h).
const (
	qFlags2           = 0
	qSQLMode          = 1
	qCatalog          = 2
	qAutoIncrement    = 3
	qCharset          = 4
	qTimeZone         = 5
	qCatalogNZ        = 6
	qLCTimeNames      = 7
	qCharsetDatabase  = 8
	qTableMapForUpd   = 9
	qMasterDataWrit   = 10
	qInvoker          = 11
	qUpdatedDBNames   = 12
	qMicroseconds     = 13
	qCommitTS         = 14
	qCommitTS2        = 15
	qExplicitDefaults = 16
	qDDLLoggedWithXID = 17
	qDefaultCollUTF8  = 18
	qSQLRequirePK     = 19
	qDefaultTableEnc  = 20
	qHRNow            = 128 // MariaDB
	qXID              = 129 // MariaDB
	qGTIDFlags3       = 130 // MariaDB
)

// statusVars extracts sql_mode and collation_server from a Query event's
// status variables. It stops at the first code it does not know (their
// lengths are not self-describing); what was read so far stands.
func statusVars(b []byte) (sqlMode uint64, hasMode bool, collServer uint16) {
	sqlMode, hasMode, _, collServer = statusVarsClient(b)
	return sqlMode, hasMode, collServer
}

// statusVarsClient is statusVars that also returns the collation id of
// character_set_client (0 when absent), the first of Q_CHARSET_CODE's three.
func statusVarsClient(b []byte) (sqlMode uint64, hasMode bool, collClient, collServer uint16) {
	for len(b) > 0 {
		code := b[0]
		b = b[1:]
		n := -1
		switch code {
		case qFlags2:
			n = 4
		case qSQLMode:
			if len(b) >= 8 {
				sqlMode, hasMode = binary.LittleEndian.Uint64(b), true
			}
			n = 8
		case qCatalog:
			if len(b) > 0 {
				n = 1 + int(b[0]) + 1
			}
		case qAutoIncrement:
			n = 4
		case qCharset:
			if len(b) >= 6 {
				collClient = binary.LittleEndian.Uint16(b)
				collServer = binary.LittleEndian.Uint16(b[4:])
			}
			n = 6
		case qTimeZone, qCatalogNZ:
			if len(b) > 0 {
				n = 1 + int(b[0])
			}
		case qLCTimeNames, qCharsetDatabase, qDefaultCollUTF8:
			n = 2
		case qTableMapForUpd, qDDLLoggedWithXID, qXID:
			n = 8
		case qMasterDataWrit:
			n = 4
		case qInvoker:
			if len(b) > 0 {
				u := 1 + int(b[0])
				if len(b) > u {
					n = u + 1 + int(b[u])
				}
			}
		case qUpdatedDBNames:
			if len(b) > 0 {
				count := int(b[0])
				i := 1
				if count != 254 { // OVER_MAX_DBS_IN_EVENT_MTS: no names follow
					for k := 0; k < count && i < len(b); k++ {
						for i < len(b) && b[i] != 0 {
							i++
						}
						i++
					}
				}
				n = i
			}
		case qMicroseconds, qHRNow:
			n = 3
		case qExplicitDefaults, qSQLRequirePK, qDefaultTableEnc, qGTIDFlags3:
			n = 1
		}
		if n < 0 || n > len(b) {
			return sqlMode, hasMode, collClient, collServer
		}
		b = b[n:]
	}
	return sqlMode, hasMode, collClient, collServer
}

// applyDDL hands a DDL Query event to the schema model. The table-id cache
// is dropped so that the next TABLE_MAP plans against the new version.
func (s *stream) applyDDL(ctx context.Context, e *replication.QueryEvent, h *replication.EventHeader, start, next uint64) error {
	clear(s.tables)
	mode, hasMode, coll := statusVars(e.StatusVars)
	c, err := s.cfg.DDL.ApplyDDL(ctx, schema.DDL{
		DB: string(e.Schema), SQL: decodeQuery(e),
		SQLMode: mode, HasSQLMode: hasMode, CollationServer: coll,
		Pos:  s.posString(start),
		File: s.file, NextPos: next,
	})
	if err != nil {
		return &Error{Kind: ErrDDL, Msg: "apply DDL at " + s.posString(start), Err: err,
			Hint: "choose: schema.history.internal.unparseable.ddl.fallback=reload re-reads the named tables from the server (correct when no later DDL changed them; later table maps are checked), or schema.history.internal.skip.unparseable.ddl=true skips the statement (rows of an affected table then fail the table map check if its columns changed), or rivulet offsets set --skip 1 past it; and please report the statement"}
	}
	if c != nil {
		s.addDDL(c, h, start)
	}
	return nil
}

// decodeQuery returns a Query event's statement as text, read in the
// event's own character_set_client (Q_CHARSET_CODE) exactly as the server
// read it: a latin1 client that sends the UTF-8 bytes of "t中文" names the
// table "tä¸­æ–‡". Statements from utf8mb3/utf8mb4 (or binary) clients,
// pure-ASCII statements and events without the status variable are taken
// as they are. Literals with a character set introducer (_utf8mb4'...')
// are read in the client's set too.
//
// The event's default database is not decoded: the server logs it in its
// system character set (UTF-8) already.
func decodeQuery(e *replication.QueryEvent) string {
	b := e.Query
	if asciiOnly(b) {
		return string(b)
	}
	_, _, client, _ := statusVarsClient(e.StatusVars)
	if client == 0 {
		return string(b)
	}
	cs := schema.CollationCharset(uint64(client))
	dec, bin, err := charsetDecoder(cs)
	if cs == "" || err != nil || bin || dec == nil {
		return string(b)
	}
	out, err := dec.appendUTF8(make([]byte, 0, len(b)*2), b)
	if err != nil {
		return string(b)
	}
	return string(out)
}
