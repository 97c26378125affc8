package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/offsets"
)

const offsetsUsage = `usage: rivulet offsets <show|set|reset> --config FILE [flags]

  show  --config FILE                  print the stored position (key and value as Kafka Connect stores them)
  set   --config FILE --file F --pos N [--gtids S]
                                       resume at binlog file F, position N (with GTID set S)
  set   --config FILE --gtids S        resume after the GTID set S
  set   --config FILE --time T         resume at the first transaction committed at or after T
                                       (RFC 3339, e.g. 2026-11-21T22:00:00Z, or Unix seconds)
  set   --config FILE --skip N         skip the next N transactions or statements after the
                                       stored position (a DDL that cannot be processed, say)
  reset --config FILE                  delete the stored position: the next start takes a new
                                       snapshot as snapshot.mode says
  --dry-run                            with set or reset: print what would be written, write nothing

set and reset refuse while another rivulet process runs this connector.
`

// offsetsCmd is `rivulet offsets show|set|reset`.
func offsetsCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, offsetsUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub := args[0]
	switch sub {
	case "show", "set", "reset":
	default:
		fmt.Fprintf(stderr, "rivulet offsets: unknown subcommand %q\n%s", sub, offsetsUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("offsets "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "connector configuration (Debezium JSON or .properties)")
	worker := fs.String("worker", "", workerUsage)
	file := fs.String("file", "", "binlog file name, such as mysql-bin.000003")
	pos := fs.Uint64("pos", 0, "position in the binlog file (the start of a transaction or event)")
	gtids := fs.String("gtids", "", "GTID set of the transactions already delivered")
	at := fs.String("time", "", "RFC 3339 time or Unix seconds: resume at the first transaction committed at or after it")
	skip := fs.Int("skip", 0, "number of transactions or statements to skip after the stored position")
	dry := fs.Bool("dry-run", false, "print what would be written, write nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	req := offsetsRequest{sub: sub, file: *file, pos: *pos, gtids: *gtids, at: *at, skip: *skip, dry: *dry}
	if msg := req.check(set); msg != "" {
		fmt.Fprintf(stderr, "rivulet offsets %s: %s\n", sub, msg)
		return exitUsage
	}
	cfg, log, code := loadConfig(stderr, "offsets "+sub, *path, *worker, false)
	if code != exitOK {
		return code
	}
	ctx, stop := signalContext(log)
	defer stop()
	if err := req.run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "rivulet offsets %s: %v\n", sub, err)
		return exitFailure
	}
	return exitOK
}

type offsetsRequest struct {
	sub, file, gtids, at string
	pos                  uint64
	skip                 int
	dry                  bool
}

// check validates the flag combination; it returns a usage message or "".
func (r offsetsRequest) check(set map[string]bool) string {
	edits := 0
	for _, f := range []string{"file", "pos", "gtids", "time", "skip"} {
		if set[f] {
			edits++
		}
	}
	switch r.sub {
	case "show", "reset":
		if edits > 0 {
			return "takes no --file, --pos, --gtids, --time or --skip"
		}
		if r.sub == "show" && set["dry-run"] {
			return "show writes nothing; --dry-run is for set and reset"
		}
		return ""
	}
	switch {
	case set["time"] || set["skip"]:
		if edits > 1 {
			return "--time and --skip each stand alone"
		}
		if set["skip"] && r.skip < 1 {
			return "--skip needs a positive number"
		}
	case set["file"] != set["pos"]:
		return "--file and --pos go together"
	case edits == 0:
		return "say where to resume: --file and --pos, --gtids, --time or --skip"
	case set["file"] && r.file == "":
		return "--file is empty"
	}
	return ""
}

func (r offsetsRequest) run(ctx context.Context, cfg *config.Config, out io.Writer) error {
	if cfg.Offsets.FileFilename == "" && cfg.Kafka.Embedded() {
		return fmt.Errorf("offsets are kept in topic %s of the embedded broker, which lives only inside `rivulet run`; use a real Kafka or offset.storage.file.filename", cfg.Offsets.Topic)
	}
	log := newLogger(io.Discard, cfg)
	store, where, err := engine.NewStore(cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	key := string(offsets.Key(cfg.Name, cfg.TopicPrefix))
	fmt.Fprintf(out, "store:    %s\nkey:      %s\n", where, key)

	if r.sub != "show" && !r.dry {
		// One writer: refuse while the connector runs (it would overwrite
		// the change, or be fenced by it).
		if err := store.Lock(ctx); err != nil {
			if errors.Is(err, offsets.ErrLocked) {
				return fmt.Errorf("refusing to change the offsets while the connector runs: %w", err)
			}
			return err
		}
	}
	cur, found, err := store.Load(ctx)
	if err != nil {
		return err
	}
	if found {
		fmt.Fprintf(out, "value:    %s\nposition: %s\n", offsets.MarshalValue(cur), cur)
	} else {
		fmt.Fprintf(out, "value:    none (the next start begins as snapshot.mode=%s says)\n", cfg.SnapshotMode)
	}
	switch r.sub {
	case "show":
		if found && cur.TsSec > 0 {
			fmt.Fprintf(out, "time:     %s (last event read)\n", time.Unix(cur.TsSec, 0).UTC().Format(time.RFC3339))
		}
		if found {
			showServer(ctx, cfg, cur, out)
		}
		return nil
	case "reset":
		if !found {
			fmt.Fprintln(out, "nothing to reset")
			return nil
		}
		if r.dry {
			fmt.Fprintln(out, "dry run: would delete the position (write a tombstone / remove the entry); nothing written")
			return nil
		}
		if err := store.Delete(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted:  the next start begins as snapshot.mode=%s says\n", cfg.SnapshotMode)
		return nil
	}

	next, err := r.target(ctx, cfg, cur, found, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "new value:    %s\nnew position: %s\n", offsets.MarshalValue(next), next)
	if r.dry {
		fmt.Fprintln(out, "dry run: nothing written")
		return nil
	}
	if err := store.Save(ctx, next); err != nil {
		return err
	}
	fmt.Fprintf(out, "written to %s\n", where)
	return nil
}

// target computes the position set asks for and checks it against the server.
func (r offsetsRequest) target(ctx context.Context, cfg *config.Config, cur offsets.Position, found bool, out io.Writer) (offsets.Position, error) {
	pc := engine.PreflightConfig(cfg)
	var next offsets.Position
	switch {
	case r.skip > 0:
		if !found {
			return next, errors.New("--skip needs a stored position to skip from")
		}
		p, groups, err := binlog.SkipGroups(ctx, pc, cur, r.skip)
		if err != nil {
			return next, err
		}
		for _, g := range groups {
			gtid := ""
			if g.GTID != "" {
				gtid = " gtid " + g.GTID
			}
			fmt.Fprintf(out, "skip:     %s:%d%s at %s: %s\n", g.File, g.Pos, gtid, time.Unix(g.TsSec, 0).UTC().Format(time.RFC3339), g.What)
		}
		return p, nil
	case r.at != "":
		t, err := parseTime(r.at)
		if err != nil {
			return next, err
		}
		p, err := binlog.PositionAt(ctx, pc, t)
		if err != nil {
			return next, err
		}
		if p.TsSec == 0 {
			fmt.Fprintln(out, "note:     no transaction at or after that time yet: resuming at the current end of the binlog")
		}
		return p, nil
	}
	next = offsets.Position{File: r.file, Pos: r.pos, GTIDSet: strings.TrimSpace(r.gtids)}
	st, err := binlog.ReadServerState(ctx, pc)
	if err != nil {
		if next.File == "" {
			return next, fmt.Errorf("a GTID-only position needs the server's binlog file list: %w", err)
		}
		fmt.Fprintf(out, "warning:  cannot check the position against the server: %v\n", err)
		return next, nil
	}
	if next.File == "" {
		if len(st.Files) == 0 {
			return next, errors.New("the server has no binlog files")
		}
		// Kafka Connect's value needs a file; with GTIDs it is not used to
		// resume. The oldest file is the safe choice if GTIDs are ignored.
		next.File, next.Pos = st.Files[0], 4
	}
	if cfg.BinlogArchiveDir != "" {
		// A position in the archive is read from the files; the server
		// must continue where they end.
		how, err := engine.CheckStored(ctx, cfg, next)
		if err != nil {
			return next, fmt.Errorf("cannot resume from %s: %w", next, err)
		}
		fmt.Fprintf(out, "source:   %s\n", how)
		return next, nil
	}
	if err := st.Check(next); err != nil {
		return next, fmt.Errorf("the server cannot resume from %s: %w", next, err)
	}
	return next, nil
}

func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--time %q is not an RFC 3339 time (2026-11-21T22:00:00Z) or Unix seconds", s)
}

// showServer says whether streaming can continue from the stored position
// (engine.CheckStored, as `rivulet run` checks before streaming): a gap the
// server's binlogs (and rivulet.binlog.archive.dir's files) no longer cover
// is explained with the server's earliest position and the remedies.
func showServer(ctx context.Context, cfg *config.Config, pos offsets.Position, out io.Writer) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	how, err := engine.CheckStored(ctx, cfg, pos)
	if err == nil {
		fmt.Fprintf(out, "server:   %s\n", how)
		return
	}
	var be *binlog.Error
	if errors.As(err, &be) && (errors.Is(err, binlog.ErrPositionNotFound) || errors.Is(err, binlog.ErrServerChanged)) {
		fmt.Fprintf(out, "server:   CANNOT continue from this position: %s\nfix:      %s\n", be.Message(), be.Hint)
		return
	}
	fmt.Fprintf(out, "server:   not checked: %v\n", err)
}
