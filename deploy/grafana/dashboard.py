#!/usr/bin/env python3
"""Generates dashboards/rivulet.json (run: python3 deploy/grafana/dashboard.py).

One dashboard, three Debezium rows (streaming, snapshot, schema history) plus
Kafka and process rows. Every panel carries a description written for the
on-call engineer: what it shows, what normal looks like, what to do when not.
Queries use the Debezium JMX-exporter names where they exist, so the same
panels work for a Debezium connector scraped through the JMX exporter.
"""
import json
import os

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'
DZ = SEL + ', name=~"$name"'

panels = []
y = 0
next_id = 1


def pid():
    global next_id
    next_id += 1
    return next_id - 1


def row(title):
    global y
    panels.append({"id": pid(), "type": "row", "title": title, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
    y += 1


def place(w, h, x):
    return {"h": h, "w": w, "x": x, "y": y}


def stat(title, expr, desc, x, w=4, unit="none", mappings=None, thresholds=None, legend="{{instance}}"):
    p = {"id": pid(), "type": "stat", "title": title, "description": desc, "datasource": DS,
         "gridPos": place(w, 4, x),
         "targets": [{"refId": "A", "expr": expr, "legendFormat": legend, "datasource": DS}],
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "colorMode": "background", "graphMode": "none", "textMode": "auto"},
         "fieldConfig": {"defaults": {"unit": unit, "mappings": mappings or [],
                                      "thresholds": thresholds or {"mode": "absolute", "steps": [
                                          {"color": "green", "value": None}]}},
                         "overrides": []}}
    panels.append(p)


def ts(title, targets, desc, x, w=12, h=8, unit="none", stack=False):
    p = {"id": pid(), "type": "timeseries", "title": title, "description": desc, "datasource": DS,
         "gridPos": place(w, h, x),
         "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": l, "datasource": DS}
                     for i, (e, l) in enumerate(targets)],
         "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                     "tooltip": {"mode": "multi", "sort": "desc"}},
         "fieldConfig": {"defaults": {"unit": unit, "custom": {
             "stacking": {"mode": "normal" if stack else "none", "group": "A"}, "fillOpacity": 10}},
             "overrides": []}}
    panels.append(p)


YESNO = [{"type": "value", "options": {"0": {"text": "NO", "color": "red"}, "1": {"text": "YES", "color": "green"}}}]
YESNO_BAD = [{"type": "value", "options": {"0": {"text": "NO", "color": "green"}, "1": {"text": "YES", "color": "red"}}}]


def thr(*steps):
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


# ---------------------------------------------------------------- streaming
row("Streaming (binlog)")
stat("Ready", f'rivulet_ready{{{SEL}}}',
     "YES when /readyz answers 200: Kafka answers and the binlog is streaming (or the snapshot runs). "
     "NO for more than a minute means no changes are captured: see 'Connected' and 'Kafka reachable', then the log.",
     0, mappings=YESNO)
stat("Connected", f'debezium_metrics_Connected{{context="streaming", {DZ}}}',
     "Debezium Connected: the binlog replication connection is up. NO: Rivulet is reconnecting with backoff; "
     "check database reachability, credentials and REPLICATION grants (log lines with component=binlog).",
     4, mappings=YESNO)
stat("Kafka reachable", f'rivulet_kafka_reachable{{{SEL}}}',
     "Kafka brokers answered the last check (every 5s). NO: events queue up and reading stops when the queue is full; "
     "nothing is lost, delivery resumes when Kafka is back.", 8, mappings=YESNO)
stat("Behind source", f'debezium_metrics_MilliSecondsBehindSource{{context="streaming", {DZ}}}',
     "How old (database time) the last event delivered was when Rivulet read it (Debezium MilliSecondsBehindSource). "
     "Stays at its last value when the database is idle; look at 'Binlog bytes behind' to tell idle from stuck.",
     12, unit="ms", thresholds=thr((None, "green"), (60000, "orange"), (300000, "red")))
stat("Binlog bytes behind", f'rivulet_binlog_lag_bytes{{{SEL}}}',
     "Binlog bytes the server wrote that Rivulet has not read yet (SHOW BINARY LOGS every 5s). Near 0 = caught up. "
     "Growing steadily = Rivulet (or Kafka) cannot keep up; -1 = unknown (database not reachable for queries).",
     16, unit="bytes", thresholds=thr((None, "green"), (100e6, "orange"), (1e9, "red")))
stat("Last offset commit", f'rivulet_offset_commit_age_seconds{{{SEL}}}',
     "Seconds since offsets were last stored. Offsets are stored only when something new was acknowledged, "
     "so a high value on an idle database is fine; a high value while events flow means restarts will re-send a lot.",
     20, unit="s", thresholds=thr((None, "green"), (300, "orange"), (900, "red")))
y += 4
ts("Events per second by table and operation",
   [(f'sum by (table, op) (rate(rivulet_events_total{{{SEL}}}[$__rate_interval]))', "{{table}} {{op}}")],
   "Change events delivered to Kafka per second (c=insert, u=update, d=delete, t=truncate, r=snapshot read). "
   "A drop to zero while the application writes means the pipeline is stuck or the table is no longer captured.",
   0, unit="ops", stack=True)
ts("Lag",
   [(f'debezium_metrics_MilliSecondsBehindSource{{context="streaming", {DZ}}} / 1000', "behind source (s) {{instance}}"),
    (f'debezium_metrics_MilliSecondsSinceLastEvent{{context="streaming", {DZ}}} / 1000', "since last event (s) {{instance}}")],
   "Behind source: age of the last delivered change when it was read; rises during bursts and catches up after. "
   "Since last event: time since anything was delivered; grows when the database is idle (normal) or when stuck "
   "(then 'Binlog bytes behind' grows too).",
   12, unit="s")
y += 8
ts("Binlog bytes behind",
   [(f'rivulet_binlog_lag_bytes{{{SEL}}}', "{{instance}}")],
   "Unread binlog bytes. Compare with the server's binlog retention: if catching up takes longer than the retention, "
   "files are purged before they are read and a new snapshot is needed.", 0, w=8, unit="bytes")
ts("Queue fill",
   [(f'rivulet_queue_events{{{SEL}}}', "in flight {{instance}}"),
    (f'debezium_metrics_QueueTotalCapacity{{context="streaming", {DZ}}}', "capacity {{instance}}")],
   "Events handed to Kafka and not yet acknowledged, against max.queue.size. Pinned at capacity: Kafka is the "
   "bottleneck (slow brokers, throttling, network) and binlog reading waits.", 8, w=8)
ts("Transactions and filtered events per second",
   [(f'rate(debezium_metrics_NumberOfCommittedTransactions{{context="streaming", {DZ}}}[$__rate_interval])', "transactions {{instance}}"),
    (f'rate(debezium_metrics_NumberOfEventsFiltered{{context="streaming", {DZ}}}[$__rate_interval])', "filtered rows events {{instance}}")],
   "Transactions read from the binlog and rows events skipped because their table is not captured. Filtered events "
   "moving while delivered events do not: the writes go to tables outside the include lists.", 16, w=8, unit="ops")
y += 8
ts("Disconnects",
   [(f'increase(debezium_metrics_NumberOfDisconnects{{context="streaming", {DZ}}}[$__rate_interval])', "{{instance}}")],
   "Binlog connection drops. Occasional ones (server restart, failover) are handled. Several per hour usually mean "
   "another replica uses the same database.server.id, or a proxy closes idle connections.", 0, w=8)
ts("Offset commit age",
   [(f'rivulet_offset_commit_age_seconds{{{SEL}}}', "{{instance}}")],
   "Seconds since the last stored offset; saw-tooth at offset.flush.interval.ms while events flow.", 8, w=8, unit="s")
ts("Large transactions",
   [(f'debezium_metrics_NumberOfLargeTransactions{{context="streaming", {DZ}}}', "{{instance}}")],
   "Transactions bigger than max.batch.size, delivered in several parts. Not an error; explains lag spikes.",
   16, w=8)
y += 8

# ---------------------------------------------------------------- snapshot
row("Snapshot")
stat("Snapshot running", f'debezium_metrics_SnapshotRunning{{context="snapshot", {DZ}}}',
     "YES while the initial snapshot reads tables. Streaming starts (or resumes) after it.", 0, mappings=YESNO)
stat("Snapshot completed", f'debezium_metrics_SnapshotCompleted{{context="snapshot", {DZ}}}',
     "YES once every captured table was read in this run.", 4, mappings=YESNO)
stat("Snapshot aborted", f'debezium_metrics_SnapshotAborted{{context="snapshot", {DZ}}}',
     "YES if the snapshot stopped before the end (error or shutdown). It resumes on the next start; read the log for the cause.",
     8, mappings=YESNO_BAD)
stat("Tables remaining", f'debezium_metrics_RemainingTableCount{{context="snapshot", {DZ}}}',
     "Tables the snapshot has not finished, out of 'Total tables'.", 12)
stat("Total tables", f'debezium_metrics_TotalTableCount{{context="snapshot", {DZ}}}',
     "Tables the snapshot reads: every captured table, or those listed in snapshot.include.collection.list.", 16)
stat("Snapshot duration", f'debezium_metrics_SnapshotDurationInSeconds{{context="snapshot", {DZ}}}',
     "Seconds the snapshot has run (so far, or in total once done).", 20, unit="s")
y += 4
ts("Rows scanned per second by table",
   [(f'sum by (table) (rate(debezium_metrics_RowsScanned{{context="snapshot", {DZ}}}[$__rate_interval]))', "{{table}}")],
   "Snapshot read rate per table. Flat at zero while 'Snapshot running' is YES: the snapshot is stuck "
   "(database locks, Kafka full queue).", 0, unit="rowsps")
ts("Chunks completed by table",
   [(f'debezium_metrics_TableChunksCompletedCounts{{context="snapshot", {DZ}}}', "done {{table}}"),
    (f'debezium_metrics_TableChunkCounts{{context="snapshot", {DZ}}}', "planned {{table}}")],
   "Chunked snapshot progress: chunks read so far against chunks planned, per table.", 12)
y += 8
ts("Snapshot progress by table (rows read of the estimate)",
   [(f'max by (table) (debezium_metrics_RowsScanned{{context="snapshot", {DZ}}}) / on (table) '
     f'max by (table) (rivulet_snapshot_table_rows_estimated{{{SEL}}} > 0)', "{{table}}")],
   "Rows the snapshot read per table divided by the server's estimate (information_schema TABLE_ROWS, "
   "approximate for InnoDB, so it may end a little above or below 100%). The same figures as the "
   "'snapshot progress' log lines and `rivulet status`.", 0, unit="percentunit")
ts("Snapshot ETA by table",
   [(f'max by (table) (rivulet_snapshot_table_eta_seconds{{{SEL}}})', "{{table}}")],
   "Seconds until each table is read at its rate so far, from the estimate; 0 once done. "
   "Rising while the rate falls: the database or Kafka slows the snapshot down (see the rate panel).", 12, unit="s")
y += 8

# ---------------------------------------------------------------- schema history
row("Schema history")
stat("DDL applied", f'debezium_metrics_ChangesApplied{{context="schema-history", {DZ}}}',
     "DDL statements read from the binlog and recorded since start (Debezium ChangesApplied).", 0)
stat("DDL recovered", f'debezium_metrics_ChangesRecovered{{context="schema-history", {DZ}}}',
     "DDL statements replayed from the stored schema history at start (Debezium ChangesRecovered).", 4)
stat("Since last DDL", f'debezium_metrics_MilliSecondsSinceLastAppliedChange{{context="schema-history", {DZ}}}',
     "Time since the last DDL was applied; -1 if none since start.", 8, unit="ms")
stat("Unparseable DDL skipped", f'rivulet_ddl_skipped_total{{{SEL}}}',
     "DDL statements skipped because they could not be parsed. Anything above 0: find the statement in the log; if it "
     "changed a captured table, that table's events may be decoded with the old schema.",
     12, thresholds=thr((None, "green"), (1, "red")))
stat("History status", f'rivulet_schema_history_status{{{SEL}}} == 1',
     "STOPPED, RECOVERING (replaying stored DDL at start) or RUNNING.", 16, w=8, legend="{{status}}")
y += 4
ts("DDL applied over time",
   [(f'increase(debezium_metrics_ChangesApplied{{context="schema-history", {DZ}}}[$__rate_interval])', "applied {{instance}}"),
    (f'increase(rivulet_ddl_skipped_total{{{SEL}}}[$__rate_interval])', "skipped {{instance}}")],
   "When schema changes happened; correlate with lag spikes or consumer errors.", 0, w=24)
y += 8

# ---------------------------------------------------------------- kafka and process
row("Kafka producer and process")
ts("Produced to Kafka",
   [(f'sum by (instance) (rate(rivulet_kafka_produce_uncompressed_bytes_total{{{SEL}}}[$__rate_interval]))', "uncompressed {{instance}}"),
    (f'sum by (instance) (rate(rivulet_kafka_produce_compressed_bytes_total{{{SEL}}}[$__rate_interval]))', "compressed {{instance}}")],
   "Bytes per second written to Kafka (franz-go client metrics).", 0, w=8, unit="Bps")
ts("Kafka connection errors",
   [(f'sum by (instance) (rate(rivulet_kafka_connect_errors_total{{{SEL}}}[$__rate_interval]))', "connect errors {{instance}}"),
    (f'sum by (instance) (rate(rivulet_kafka_write_errors_total{{{SEL}}}[$__rate_interval]))', "write errors {{instance}}")],
   "Failed connections and writes to brokers. Non-zero during a broker restart is normal; sustained means network, "
   "TLS/SASL or broker trouble.", 8, w=8, unit="ops")
ts("CPU and memory",
   [(f'rate(process_cpu_seconds_total{{{SEL}}}[$__rate_interval])', "CPU cores {{instance}}"),
    (f'process_resident_memory_bytes{{{SEL}}} / 2^30', "RSS GiB {{instance}}")],
   "CPU cores used and resident memory (GiB). Compare with the container limits: CPU pinned at the limit caps throughput.",
   16, w=8)
y += 8

dashboard = {
    "uid": "rivulet-overview",
    "title": "Rivulet overview",
    "description": "Rivulet CDC: streaming, snapshot and schema history, with Debezium-compatible metric names.",
    "schemaVersion": 39,
    "version": 2,
    "editable": True,
    "time": {"from": "now-1h", "to": "now"},
    "refresh": "10s",
    "tags": ["rivulet", "cdc", "debezium"],
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source",
         "current": {"text": "Prometheus", "value": "prometheus"}},
        {"name": "job", "type": "query", "datasource": DS, "label": "Job", "refresh": 2,
         "query": {"query": "label_values(debezium_metrics_Connected, job)", "refId": "job"},
         "definition": "label_values(debezium_metrics_Connected, job)", "includeAll": True, "multi": True,
         "current": {"text": "All", "value": "$__all"}},
        {"name": "name", "type": "query", "datasource": DS, "label": "Connector (topic.prefix)", "refresh": 2,
         "query": {"query": 'label_values(debezium_metrics_Connected{job=~"$job"}, name)', "refId": "name"},
         "definition": 'label_values(debezium_metrics_Connected{job=~"$job"}, name)', "includeAll": True, "multi": True,
         "current": {"text": "All", "value": "$__all"}},
        {"name": "instance", "type": "query", "datasource": DS, "label": "Instance", "refresh": 2,
         "query": {"query": 'label_values(debezium_metrics_Connected{job=~"$job", name=~"$name"}, instance)', "refId": "instance"},
         "definition": 'label_values(debezium_metrics_Connected{job=~"$job", name=~"$name"}, instance)',
         "includeAll": True, "multi": True, "current": {"text": "All", "value": "$__all"}},
    ]},
    "annotations": {"list": []},
    "panels": panels,
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards", "rivulet.json")
with open(out, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
