package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

func laterPos(a, b offsets.Position) offsets.Position {
	if snapshot.ComparePositions(b, a) > 0 {
		return b
	}
	return a
}

var kerrUnknownTopic = kerr.UnknownTopicOrPartition

// recheck reads the differing keys again, by key, between new watermarks,
// waits until the stream has passed them, reads the topic on from where it
// ended, and drops the keys whose two sides now agree: they were changes in
// flight. It stops after Rounds rounds or when nothing differs.
func (v *tableRun) recheck(ctx context.Context) error {
	for round := 1; round <= v.cfg.Rounds && len(v.cands) > 0; round++ {
		v.res.Rounds = round
		var conds []string
		keys := slices.Sorted(maps.Keys(v.cands))
		for _, k := range keys {
			c := v.cands[k]
			c.changed = false
			if c.noRecheck {
				continue
			}
			cond, err := KeyCondition(v.t, []byte(k))
			if errors.Is(err, ErrKeyType) {
				c.noRecheck = true
				continue
			}
			if err != nil {
				return err
			}
			c.dbLive, c.dbKnown, c.dbAfter = false, true, nil
			conds = append(conds, cond)
		}
		// The database, now.
		high, err := v.readKeys(ctx, conds)
		if err != nil {
			return err
		}
		// The topic, once the stream has passed that.
		if err := v.wait(ctx, high); err != nil {
			return err
		}
		end, err := v.endOffsets(ctx)
		if err != nil {
			return err
		}
		reached, err := v.readTopic(ctx, v.topicEnd, end, func(r *kgo.Record, c *Canon) {
			if c.Op == 't' {
				for _, cd := range v.cands {
					cd.topicLive, cd.topicAfter, cd.changed = false, nil, true
				}
				return
			}
			cd := v.cands[string(c.Key)]
			if cd == nil {
				return
			}
			cd.changed = true
			cd.topicLive = c.Live()
			cd.rawKey = bytes.Clone(r.Key)
			cd.topicAfter = nil
			if cd.topicLive {
				cd.topicAfter = bytes.Clone(c.After)
			}
		})
		if err != nil {
			return err
		}
		v.topicEnd = reached
		resolved := 0
		for k, c := range v.cands {
			if c.noRecheck {
				continue
			}
			if c.dbLive == c.topicLive && (!c.dbLive || bytes.Equal(c.dbAfter, c.topicAfter)) {
				delete(v.cands, k)
				resolved++
			}
		}
		v.log.Info("re-check", "round", round, "keys", len(conds), "agree_now", resolved, "still_differ", len(v.cands))
	}
	return nil
}

// readKeys reads the rows of the given key conditions (one SELECT between
// watermarks per batch, snapshot.ReadWhere) and records them in the
// candidates; it returns the highest high watermark.
func (v *tableRun) readKeys(ctx context.Context, conds []string) (high offsets.Position, err error) {
	if len(conds) == 0 {
		return high, nil
	}
	snap, err := snapshot.New(v.cfg.Snapshot)
	if err != nil {
		return high, err
	}
	for batch := range slices.Chunk(conds, recheckBatch) {
		ch, err := snap.ReadWhere(ctx, v.t, strings.Join(batch, " OR "))
		if err != nil {
			return high, fmt.Errorf("read the differing keys again: %w", err)
		}
		for _, r := range ch.Rows {
			key, after, ok, err := v.encode(ctx, r)
			if err != nil {
				return high, err
			}
			if !ok {
				continue
			}
			if c := v.cands[string(key)]; c != nil {
				c.dbLive, c.dbAfter = true, bytes.Clone(after)
			}
		}
		high = laterPos(high, ch.High)
	}
	return high, nil
}

// classify turns the keys that still differ into the result.
func (v *tableRun) classify() {
	r := &v.res
	keys := slices.Sorted(maps.Keys(v.cands))
	for _, k := range keys {
		c := v.cands[k]
		if c.changed && v.cfg.WaitPosition != nil {
			r.Changing++
			continue
		}
		if c.noRecheck {
			r.NotRechecked++
		}
		dbLive := c.dbLive
		if !c.dbKnown {
			dbLive = c.kind != 'x'
		}
		switch {
		case dbLive && !c.topicLive:
			r.MissingN++
			r.Missing = append(r.Missing, Diff{Key: k})
		case !dbLive && c.topicLive:
			r.ExtraN++
			r.Extra = append(r.Extra, Diff{Key: k, RawKey: c.rawKey})
		case dbLive && c.topicLive:
			r.DifferN++
			d := Diff{Key: k, RawKey: c.rawKey}
			if c.dbKnown {
				d.Columns = Columns(c.dbAfter, c.topicAfter)
			}
			r.Differ = append(r.Differ, d)
		}
	}
	if v.cfg.WaitPosition == nil {
		r.Notes = append(r.Notes, "no running instance: the topic cannot catch up with changes made since it stopped, so they count as differences")
	}
}
