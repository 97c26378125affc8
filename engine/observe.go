package engine

import (
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// SendObserver is an Observer that also counts what the run loop hands to
// the sink (metrics.Stream): change events by table and operation as the
// sink produces them, the last event's position and lag, and the events
// awaiting acknowledgement. Calls come from the run loop's goroutine,
// except EventsAcked, which comes from the sink's callbacks; none may block
// or retain arguments.
type SendObserver interface {
	// TableEvents counts n change events of operation op ('c', 'u', 'd',
	// 't', or 'r' for snapshot reads) of table ("db.table").
	TableEvents(table string, op byte, n int)
	// EventsSent records a batch of n streamed events handed to the sink;
	// the last one came from binlog file:pos (gtid "" without GTIDs) at
	// database time tsUs. cont marks a batch that continues the
	// transaction the previous batch ended in.
	EventsSent(n int, file string, pos uint64, gtid string, tsUs int64, cont bool)
	// SnapshotEventsSent records a batch of n snapshot reads handed to the sink.
	SnapshotEventsSent(n int)
	// EventsAcked records n events acknowledged (or failed) by the sink.
	EventsAcked(n int)
}

// sendCounter reports each batch the run loop hands to the sink to a
// SendObserver, counting records as the sink produces them: a primary-key
// change is a delete and a create, skipped operations are not counted.
// Owned by the run loop's goroutine: the table cache needs no lock. A nil
// *sendCounter counts nothing.
type sendCounter struct {
	obs  SendObserver
	skip [256]bool // operations the sink drops (skipped.operations)
	ids  map[*schema.Table]string

	prevFile string // position of the previous batch's last transaction
	prevPos  uint64
}

// newSendCounter returns the counter of o, or nil when o is not a SendObserver.
func newSendCounter(o Observer, skipped []event.Op) *sendCounter {
	so, ok := o.(SendObserver)
	if !ok {
		return nil
	}
	c := &sendCounter{obs: so, ids: make(map[*schema.Table]string)}
	for _, op := range skipped {
		c.skip[op] = true
	}
	return c
}

// id is t's "db.table", cached per table version.
func (c *sendCounter) id(t *schema.Table) string {
	id, ok := c.ids[t]
	if !ok {
		if len(c.ids) > 4096 { // tables are replaced on DDL: bound the cache
			clear(c.ids)
		}
		id = t.ID()
		c.ids[t] = id
	}
	return id
}

// count reports events, about to be sent, by runs of one table and
// operation, and returns done wrapped to report their acknowledgement.
func (c *sendCounter) count(events []event.ChangeEvent, done func(error)) func(error) {
	if c == nil || len(events) == 0 {
		return done
	}
	var cur *schema.Table
	var curOp event.Op
	run, counted := 0, 0
	flush := func() {
		if run > 0 && cur != nil && !c.skip[curOp] {
			c.obs.TableEvents(c.id(cur), byte(curOp), run)
			counted += run
		}
	}
	for i := range events {
		e := &events[i]
		if e.Op == event.OpUpdate && !c.skip['u'] && e.KeyChanged() {
			// Sent as a delete and a create (whatever skipped.operations
			// says of those), as Debezium does and counts it.
			flush()
			cur, run = nil, 0
			id := c.id(e.Table)
			c.obs.TableEvents(id, 'd', 1)
			c.obs.TableEvents(id, 'c', 1)
			counted += 2
			continue
		}
		if e.Table != cur || e.Op != curOp {
			flush()
			cur, curOp, run = e.Table, e.Op, 0
		}
		run++
	}
	flush()
	first, last := &events[0].Source, &events[len(events)-1].Source
	n := counted
	acked := func(err error) {
		c.obs.EventsAcked(n) // obs never changes: safe from the sink's callbacks
		done(err)
	}
	if last.Snapshot != "" {
		c.obs.SnapshotEventsSent(counted)
		return acked
	}
	// Events carry the position of their transaction's BEGIN: a batch that
	// starts in the transaction the previous one ended in continues a large
	// transaction, which the binlog reader cut at max.batch.size.
	cont := first.File == c.prevFile && first.Pos == c.prevPos && first.Snapshot == ""
	c.prevFile, c.prevPos = last.File, last.Pos
	c.obs.EventsSent(counted, last.File, last.Pos, last.GTID, last.TsUs, cont)
	return acked
}
