package snapshot

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestStreamRows_ErrorMidResult: an error the server raises after it sent
// rows (a correlated subquery returning two rows from the fourth row on)
// reaches the caller as the server's error, after the rows before it; the
// session then runs the next statement.
func TestStreamRows_ErrorMidResult(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE a (id INT PRIMARY KEY, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`)
	fill(t, srv, db, "a", 50)
	s := newSnapshotter(t, srv, 10, 1)
	c, err := s.dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tbl := loadTables(t, srv, db)[0]
	q := "SELECT id, n, s, d, (SELECT b.x FROM `" + db + "`.a AS b WHERE b.n = a.n AND a.id >= ?) FROM `" + db + "`.a ORDER BY id"
	var rows [][]event.Value
	err = streamRows(c, q, []any{3}, newConverter(tbl), func() ([]event.Value, error) {
		rows = append(rows, make([]event.Value, len(tbl.Columns)))
		return rows[len(rows)-1], nil
	})
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r[0].I)
	}
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != 1242 || me.State != "21000" || me.Message == "" {
		t.Fatalf("streamRows = %v (%#v), want the server's error 1242", err, me)
	}
	if len(ids) != 3 {
		t.Errorf("rows before the error: %v, want ids 0, 1, 2", ids)
	}
	// The whole result was read: the next statement runs.
	n := 0
	if err := streamRows(c, "SELECT * FROM `"+db+"`.a WHERE id < ?", []any{20}, newConverter(tbl), func() ([]event.Value, error) {
		n++
		return make([]event.Value, len(tbl.Columns)), nil
	}); err != nil || n != 20 {
		t.Fatalf("next statement: %d rows, %v", n, err)
	}
}
