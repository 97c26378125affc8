package snapshot

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// walk follows r from the table's start to its last chunk and returns the
// upper keys (the last chunk's is nil, not listed).
func walk(t *testing.T, r *keyRange) []any {
	t.Helper()
	var his []any
	var lo []any
	for range 1000 {
		hi := r.next(lo)
		if hi == nil {
			return his
		}
		his = append(his, hi[0])
		lo = hi
	}
	t.Fatalf("no last chunk after 1000: %v…", his[:5])
	return nil
}

func TestKeyRange_Next(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    keyRange
		want string
	}{
		{"signed", keyRange{min: uint64(int64ToBits(-10)), max: 100, stride: 25}, "[14 39 64 89]"},
		// 100 - 90 < 25 after the third: the fourth chunk is the last, unbounded.
		{"exact fit", keyRange{min: 1, max: 100, stride: 25}, "[25 50 75]"},
		{"one chunk", keyRange{min: 5, max: 9, stride: 8}, "[]"},
		{"unsigned at the top", keyRange{unsigned: true, min: math.MaxUint64 - 99, max: math.MaxUint64, stride: 30},
			fmt.Sprint([]any{uint64(math.MaxUint64 - 70), uint64(math.MaxUint64 - 40), uint64(math.MaxUint64 - 10)})},
		{"whole int64", keyRange{min: uint64(int64ToBits(math.MinInt64)), max: math.MaxInt64, stride: 1 << 62},
			fmt.Sprint([]any{int64(math.MinInt64 + 1<<62 - 1), int64(-1), int64(1<<62 - 1)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(walk(t, &tc.r)); got != tc.want {
				t.Errorf("upper keys %s, want %s", got, tc.want)
			}
		})
	}
	r := keyRange{min: 0, max: 1000, stride: 100}
	// A resumed key past max, or of the other signedness: the last chunk.
	for _, lo := range [][]any{{int64(1000)}, {int64(5000)}, {uint64(3)}, {"x"}} {
		if hi := r.next(lo); hi != nil {
			t.Errorf("next(%v) = %v, want the last chunk", lo, hi)
		}
	}
	// A resumed key before min starts from it.
	if hi := r.next([]any{int64(-50)}); fmt.Sprint(hi) != "[50]" {
		t.Errorf("next(-50) = %v, want [50]", hi)
	}
}

func int64ToBits(v int64) uint64 { return uint64(v) }

// TestSnapshotter_RangeSplit reads tables split by key arithmetic (dense
// integer keys, signed with negatives and gaps, unsigned at the top of the
// range) and by bound queries (sparse keys): every row once, in key order,
// chunks at most twice the chunk size.
func TestSnapshotter_RangeSplit(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db,
		`CREATE TABLE dense (id INT PRIMARY KEY, v INT)`,
		`CREATE TABLE sparse (id BIGINT PRIMARY KEY, v INT)`,
		`CREATE TABLE top (id BIGINT UNSIGNED PRIMARY KEY, v INT)`)
	var dense, sparse, top []string
	want := map[string]int{}
	for i := -500; i < 1500; i++ {
		if i%10 != 0 { // one key in ten missing: density 0.9
			dense = append(dense, fmt.Sprintf("(%d, %d)", i, i))
			want["dense"]++
		}
		if i >= 0 && i < 600 {
			sparse = append(sparse, fmt.Sprintf("(%d, %d)", i*7, i))
			top = append(top, fmt.Sprintf("(%d, %d)", uint64(math.MaxUint64)-uint64(i), i))
			want["sparse"]++
			want["top"]++
		}
	}
	srv.Exec(t, db, "INSERT INTO dense VALUES "+strings.Join(dense, ","), "INSERT INTO sparse VALUES "+strings.Join(sparse, ","),
		"INSERT INTO top VALUES "+strings.Join(top, ","), "ANALYZE TABLE dense, sparse, top")
	tables := loadTables(t, srv, db)
	const chunk = 64
	for _, threads := range []int{1, 3} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			s := newSnapshotter(t, srv, chunk, threads)
			got := map[string]int{}
			last := map[string]int64{}
			his := map[string][]string{}
			for _, ch := range collect(t, s, tables, Progress{}) {
				name := ch.Table.Name
				if len(ch.Rows) > 2*chunk {
					t.Errorf("%s: a chunk of %d rows, over twice the chunk size", name, len(ch.Rows))
				}
				for _, r := range ch.Rows {
					// top's keys are unsigned: their bits order them
					// like signed ones here (all above 2^63).
					k := r[0].I
					if got[name] > 0 && k <= last[name] {
						t.Fatalf("%s: key %d after %d", name, k, last[name])
					}
					last[name] = k
					got[name]++
				}
				if !ch.Progress.Done {
					his[name] = append(his[name], ch.Progress.After[0])
				}
			}
			for name, n := range want {
				if got[name] != n {
					t.Errorf("%s: %d rows read, want %d", name, got[name], n)
				}
			}
			// dense: from -499, key ranges of ceil(64/0.9) = 72 values (the estimate
			// of an analyzed table is exact), where bound queries would
			// have ended chunks every 64 rows.
			if fmt.Sprint(his["dense"][:3]) != "[i:-428 i:-356 i:-284]" {
				t.Errorf("dense: chunk upper keys %v…, want key ranges of 72", his["dense"][:3])
			}
			// sparse (density 1/7) keeps bound queries: 64 rows a chunk.
			if fmt.Sprint(his["sparse"][:2]) != "[i:441 i:889]" {
				t.Errorf("sparse: chunk upper keys %v…, want every 64th key", his["sparse"][:2])
			}
			if len(his["top"]) != 600/chunk {
				t.Errorf("top: %d bounded chunks, want %d", len(his["top"]), 600/chunk)
			}
		})
	}
}
