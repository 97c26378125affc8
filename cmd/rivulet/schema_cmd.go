package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

const schemaUsage = `usage: rivulet schema <show|history> --config FILE

  show     print the tracked tables and columns as Rivulet sees them at the
           stored offset (rebuilt from the schema history, no server needed)
  history  list the recorded schema changes in order: position, database,
           tables changed and the statement
`

// schemaCmd is `rivulet schema show|history`.
func schemaCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, schemaUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub := args[0]
	if sub != "show" && sub != "history" {
		fmt.Fprintf(stderr, "rivulet schema: unknown subcommand %q\n%s", sub, schemaUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("schema "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "connector configuration (Debezium JSON or .properties)")
	worker := fs.String("worker", "", workerUsage)
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	cfg, log, code := loadConfig(stderr, "schema "+sub, *path, *worker, false)
	if code != exitOK {
		return code
	}
	ctx, stop := signalContext(log)
	defer stop()
	if err := schemaRun(ctx, sub, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "rivulet schema %s: %v\n", sub, err)
		return exitFailure
	}
	return exitOK
}

func schemaRun(ctx context.Context, sub string, cfg *config.Config, out io.Writer) error {
	if cfg.SchemaHistory.Store == config.HistoryKafka && cfg.Kafka.Embedded() {
		return fmt.Errorf("the schema history is in topic %s of the embedded broker, which lives only inside `rivulet run`", cfg.SchemaHistory.KafkaTopic)
	}
	log := newLogger(io.Discard, cfg)
	store, where, err := engine.OpenHistoryStore(cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(out, "history:  %s\n", where)
	if sub == "history" {
		return printHistory(ctx, store, cfg.TopicPrefix, out)
	}

	ostore, owhere, err := engine.NewStore(cfg, log)
	if err != nil {
		return err
	}
	defer ostore.Close()
	pos, found, err := ostore.Load(ctx)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no stored offset in %s: nothing to show until the connector has run", owhere)
	}
	fmt.Fprintf(out, "offset:   %s\n\n", pos.String())
	tracker, filter, err := engine.SchemaAt(ctx, cfg, store, where, pos, log)
	if err != nil {
		return err
	}
	return printTables(tracker, filter, out)
}

func printTables(tr *schema.Tracker, filter *schema.Filter, out io.Writer) error {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	for _, d := range tr.Tables() {
		t := d.Table
		state := "captured"
		if !filter.Table(t.DB, t.Name) {
			state = "not captured"
		}
		fmt.Fprintf(w, "%s (%s, charset %s)\n", t.ID(), state, d.Charset)
		key := map[int]bool{}
		for _, k := range t.PrimaryKey {
			key[k] = true
		}
		for i, c := range t.Columns {
			typ := c.TypeName
			switch {
			case c.Type == schema.TypeDecimal || c.Scale > 0:
				typ += fmt.Sprintf("(%d,%d)", c.Length, c.Scale)
			case c.FSP > 0:
				typ += fmt.Sprintf("(%d)", c.FSP)
			case c.Length > 0:
				typ += fmt.Sprintf("(%d)", c.Length)
			case len(c.Values) > 0:
				typ += "('" + strings.Join(c.Values, "','") + "')"
			}
			if c.Unsigned {
				typ += " UNSIGNED"
			}
			var attrs []string
			if !c.Nullable {
				attrs = append(attrs, "NOT NULL")
			}
			if key[i] {
				attrs = append(attrs, "KEY")
			}
			if c.Charset != "" && c.Charset != "binary" {
				attrs = append(attrs, c.Charset)
			}
			if c.Excluded {
				attrs = append(attrs, "excluded")
			}
			fmt.Fprintf(w, "  %d\t%s\t%s\t%s\n", i+1, c.Name, typ, strings.Join(attrs, " "))
		}
	}
	return w.Flush()
}

func printHistory(ctx context.Context, store schema.HistoryStore, server string, out io.Writer) error {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "#\tRECORDED\tPOSITION\tDATABASE\tCHANGES\tDDL")
	n := 0
	err := store.Read(ctx, func(data []byte) error {
		r, err := schema.UnmarshalRecord(data)
		if err != nil {
			return err
		}
		n++
		if r.Server != server {
			return nil
		}
		pos := string(r.Position)
		if p, err := offsets.UnmarshalValue(r.Position); err == nil {
			pos = p.String()
		}
		var changes []string
		for _, tc := range r.Change.Tables {
			s := string(tc.Type) + " " + tc.ID.String()
			if tc.PreviousID.Name != "" {
				s += " (was " + tc.PreviousID.String() + ")"
			}
			changes = append(changes, s)
		}
		ddl := strings.Join(strings.Fields(r.Change.DDL), " ")
		if len(ddl) > 120 {
			ddl = ddl[:117] + "..."
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", n, time.UnixMilli(r.TsMs).UTC().Format(time.RFC3339), pos, r.Change.DB,
			strings.Join(changes, "; "), ddl)
		return nil
	})
	if err != nil {
		return err
	}
	return w.Flush()
}
