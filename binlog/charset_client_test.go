package binlog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

// TestReader_DDLCharacterSetClient: clients with each character_set_client
// create and alter tables, columns, ENUM/SET values and defaults with
// non-ASCII names; the Query events carry the client's bytes, which Rivulet
// must read in the event's character_set_client as the server did. The
// tracked model must equal information_schema byte for byte, and rows
// decode. The latin1 client sends UTF-8 bytes (the double-encoded setup of
// older applications): the server names its table "tä¸­æ–‡".
func TestReader_DDLCharacterSetClient(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	h := newHarness(t, srv, db)
	f, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	tr := schema.NewTracker(schema.TrackerConfig{Filter: f, MariaDB: true})
	if _, err := tr.LoadFrom(t.Context(), h.loader); err != nil {
		t.Fatal(err)
	}
	h.cfg.Tables, h.cfg.DDL = tr, tr
	from := h.now()
	type client struct {
		names string
		enc   encoding.Encoding // nil: the text's UTF-8 bytes are sent as they are
		text  string            // the statements' non-ASCII words
	}
	clients := []client{
		{"latin1", nil, "中文"}, // UTF-8 bytes read as latin1 by the server
		{"latin1", charmap.Windows1252, "äöü"},
		{"cp932", japanese.ShiftJIS, "表ソ"}, // 0x95 0x5C: a backslash as trail byte
		{"gbk", simplifiedchinese.GBK, "中文"},
		{"utf8mb3", nil, "中文"},
		{"utf8mb4", nil, "中文😀"},
	}
	rows := 0
	for i, cl := range clients {
		conn := srv.Conn(t, db)
		if _, err := conn.Execute("SET NAMES " + cl.names); err != nil {
			t.Fatal(err)
		}
		// Identifiers are utf8mb3 on the server: the 4-byte character goes
		// into literals only.
		w, lit := strings.TrimSuffix(cl.text, "😀"), cl.text
		tbl := "t" + string(rune('0'+i)) + w
		stmts := []string{
			"CREATE TABLE `" + tbl + "` (id INT PRIMARY KEY, `c" + w + "` VARCHAR(10) CHARACTER SET utf8mb4 DEFAULT '" + lit + "', e ENUM('" + lit + "','b') CHARACTER SET utf8mb4 DEFAULT '" + lit + "')",
			"ALTER TABLE `" + tbl + "` ADD COLUMN `s" + w + "` SET('" + lit + "','x') CHARACTER SET utf8mb4 DEFAULT '" + lit + "', ADD COLUMN l VARCHAR(4) CHARACTER SET latin1 DEFAULT 'ab'",
			"ALTER TABLE `" + tbl + "` CHANGE `c" + w + "` `d" + w + "` VARCHAR(12) CHARACTER SET utf8mb4 DEFAULT 'z" + lit + "'",
			"INSERT INTO `" + tbl + "` (id) VALUES (1)",
		}
		for _, s := range stmts {
			q := s
			if cl.enc != nil {
				b, err := cl.enc.NewEncoder().String(s)
				if err != nil {
					t.Fatalf("encode %q in %s: %v", s, cl.names, err)
				}
				q = b
			}
			if _, err := conn.Execute(q); err != nil {
				t.Fatalf("%s client: %s: %v", cl.names, s, err)
			}
		}
		rows++
	}
	rn := h.start(from)
	evs, _ := rn.events(t, rows)
	rn.stop(t)
	h.loader.InvalidateAll()
	ids, err := h.loader.Tables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(clients) {
		t.Fatalf("server has tables %v", ids)
	}
	names := map[string]bool{}
	for _, id := range ids {
		names[id.Name] = true
		want, err := h.loader.Table(t.Context(), id.DB, id.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.Table(t.Context(), id.DB, id.Name)
		if err != nil {
			t.Errorf("%s: %v", id.Name, err)
			continue
		}
		// Declared is the DDL text's own view (the streamed "INT" has no
		// width; information_schema prints int(11)).
		if d := cmp.Diff(want, got, bmpOnly, cmpopts.IgnoreFields(schema.Column{}, "Declared")); d != "" {
			t.Errorf("%q (-information_schema +tracked):\n%s", id.Name, d)
		}
	}
	if !names["t0ä¸\u00adæ–‡"] {
		t.Errorf("the latin1 client's table is not tä¸­æ–‡: %v", ids)
	}
	for _, ev := range evs {
		if !names[ev.Table.Name] {
			t.Errorf("row of %q, a table the server does not have", ev.Table.Name)
		}
		if strings.HasPrefix(ev.Table.Name, "t5") && !strings.Contains(strings.Join(showRow(ev.After), ","), "中文😀") {
			t.Errorf("utf8mb4 row %v lacks the 4-byte default", showRow(ev.After))
		}
	}
}

// bmpOnly compares text as information_schema and SHOW CREATE TABLE print
// it: their metadata is utf8mb3, so a character beyond the BMP in an ENUM
// or SET value or a default shows as '?' there, while the column (and the
// binlog's row metadata and rows) hold it. The tracked model keeps it.
var bmpOnly = cmp.Transformer("bmpOnly", func(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			return '?'
		}
		return r
	}, s)
})
