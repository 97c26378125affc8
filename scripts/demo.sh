#!/usr/bin/env bash
# End-to-end demo on this machine, no Docker:
#   throwaway mariadbd -> bin/rivulet (embedded Kafka) -> kcat prints the topics.
#
# Usage: scripts/demo.sh            (or: make demo)
# Env:   KEEP=1        keep the temp directory (logs, data) after the demo
#        DEMO_PORT=N   MariaDB port (default 3307, or a free one if taken)
#        KAFKA_PORT=N  embedded Kafka port (default 9092, or a free one if taken)
#        SKIP_BUILD=1  use an existing bin/rivulet
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port WANT: WANT if free, else the next free port above it.
pick_port() {
	local p=$1
	while ! port_free "$p"; do
		p=$((p + 1))
		[ "$p" -lt 65000 ] || die "no free port from $1"
	done
	echo "$p"
}

# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND every 0.2s until it
# succeeds (then logs DESCRIPTION) or SECONDS pass (then returns 1).
wait_for() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
	log "$what"
}

# --- tools ---------------------------------------------------------------
pkgs=()
have_cmd mariadbd || pkgs+=(mariadb-server)
have_cmd kcat || pkgs+=(kcat)
apt_install "${pkgs[@]}"
for c in mariadbd mariadb kcat go; do
	have_cmd "$c" || die "$c not found after install"
done
INSTALL_DB="$(command -v mariadb-install-db || command -v mysql_install_db)" ||
	die "mariadb-install-db not found: apt-get install -y mariadb-server"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
	log "building bin/rivulet"
	make -C "$ROOT" --no-print-directory build
fi
[ -x "$ROOT/bin/rivulet" ] || die "bin/rivulet missing (make build)"

# --- temp dir and cleanup ------------------------------------------------
DIR="$(mktemp -d "${TMPDIR:-/tmp}/rivulet-demo.XXXXXX")"
MARIADB_PID=""
RIVULET_PID=""

stop_pid() { # stop_pid PID NAME SECONDS: SIGTERM, then SIGKILL after SECONDS
	local pid=$1 name=$2 secs=$3 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	log "$name did not stop in ${secs}s, killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$RIVULET_PID" ] || stop_pid "$RIVULET_PID" rivulet 40
	[ -z "$MARIADB_PID" ] || stop_pid "$MARIADB_PID" mariadbd 30
	wait 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		for f in "$DIR/rivulet.log" "$DIR/mariadb/error.log"; do
			[ -f "$f" ] || continue
			echo "--- last lines of $f" >&2
			tail -n 30 "$f" >&2
		done
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		log "kept $DIR"
	else
		rm -rf "$DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- MariaDB ---------------------------------------------------------------
DB_PORT="$(pick_port "${DEMO_PORT:-3307}")"
KAFKA_PORT="$(pick_port "${KAFKA_PORT:-9092}")"
METRICS_PORT="$(pick_port 9404)"
SOCK="$DIR/mariadb/mysqld.sock"
mkdir -p "$DIR/mariadb"
as_root_flag=()
[ "$(id -u)" -ne 0 ] || as_root_flag=(--user=root)

log "initialising MariaDB data directory in $DIR/mariadb"
"$INSTALL_DB" --no-defaults --auth-root-authentication-method=normal \
	--datadir="$DIR/mariadb/data" --skip-test-db "${as_root_flag[@]}" >"$DIR/mariadb/install.log" 2>&1 ||
	{ cat "$DIR/mariadb/install.log" >&2; die "mariadb-install-db failed"; }

log "starting mariadbd on 127.0.0.1:$DB_PORT"
# Same flags as internal/testenv: binlog ROW / FULL image / FULL metadata.
mariadbd --no-defaults \
	--datadir="$DIR/mariadb/data" --socket="$SOCK" --pid-file="$DIR/mariadb/mysqld.pid" \
	--log-error="$DIR/mariadb/error.log" --tmpdir="$DIR/mariadb" \
	--port="$DB_PORT" --bind-address=127.0.0.1 "${as_root_flag[@]}" \
	--log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
	--server-id=1 --log-slave-updates --skip-name-resolve \
	--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
	--innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
	--innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --performance-schema=OFF \
	--loose-innodb-use-native-aio=0 --skip-ssl >"$DIR/mariadb/mariadbd.out" 2>&1 &
MARIADB_PID=$!

sql() { mariadb --no-defaults -S "$SOCK" -uroot "$@"; }
sql_ping() {
	kill -0 "$MARIADB_PID" 2>/dev/null || die "mariadbd exited during start-up"
	sql -e 'SELECT 1' 2>/dev/null
}
wait_for 30 "mariadbd is up" sql_ping || die "mariadbd did not start (see $DIR/mariadb/error.log)"

log "creating user rivulet and database inventory"
sql <<'SQL'
CREATE USER 'rivulet'@'%' IDENTIFIED BY 'rivulet-demo';
CREATE USER 'rivulet'@'127.0.0.1' IDENTIFIED BY 'rivulet-demo';
GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'rivulet'@'%';
GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'rivulet'@'127.0.0.1';
CREATE DATABASE inventory;
USE inventory;
CREATE TABLE customers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_name VARCHAR(255) NOT NULL,
  last_name VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE
) AUTO_INCREMENT = 1001;
CREATE TABLE orders (
  order_number INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_date DATE NOT NULL,
  purchaser INT NOT NULL,
  quantity INT NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  FOREIGN KEY (purchaser) REFERENCES customers (id)
) AUTO_INCREMENT = 10001;
INSERT INTO customers (first_name, last_name, email) VALUES
  ('Sally', 'Thomas', 'sally.thomas@acme.com'),
  ('George', 'Bailey', 'gbailey@foobar.com'),
  ('Edward', 'Walker', 'ed@walker.com');
INSERT INTO orders (order_date, purchaser, quantity, total) VALUES
  ('2016-01-16', 1001, 1, 19.99);
SQL

# --- Rivulet ---------------------------------------------------------------
CONFIG="$DIR/connector.json"
kafka_servers="embedded"
[ "$KAFKA_PORT" = 9092 ] || kafka_servers="embedded:$KAFKA_PORT"
sed -E \
	-e "s#(\"database.port\": )\"[^\"]*\"#\\1\"$DB_PORT\"#" \
	-e "s#(\"bootstrap.servers\": )\"[^\"]*\"#\\1\"$kafka_servers\"#" \
	-e "s#(\"offset.storage.file.filename\": )\"[^\"]*\"#\\1\"$DIR/offsets.json\"#" \
	-e "s#(\"metrics.listen\": )\"[^\"]*\"#\\1\"127.0.0.1:$METRICS_PORT\"#" \
	"$ROOT/demo/connector.json" >"$CONFIG"

log "starting rivulet run --config $CONFIG (embedded Kafka on 127.0.0.1:$KAFKA_PORT)"
"$ROOT/bin/rivulet" run --config "$CONFIG" >"$DIR/rivulet.log" 2>&1 &
RIVULET_PID=$!

rivulet_alive() { kill -0 "$RIVULET_PID" 2>/dev/null; }
ready() {
	rivulet_alive || die "rivulet exited early (log: $DIR/rivulet.log)"
	if command -v curl >/dev/null 2>&1; then
		curl -fs -o /dev/null "http://127.0.0.1:$METRICS_PORT/readyz"
	else
		kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 2 2>/dev/null
	fi
}
wait_for 60 "rivulet is ready" ready || die "rivulet not ready after 60s (log: $DIR/rivulet.log)"

# --- changes ---------------------------------------------------------------
log "making changes in inventory"
sql inventory <<'SQL'
INSERT INTO customers (first_name, last_name, email) VALUES ('Anne', 'Kretchmar', 'annek@noanswer.org');
UPDATE customers SET first_name = 'Anne Marie' WHERE email = 'annek@noanswer.org';
INSERT INTO orders (order_date, purchaser, quantity, total) VALUES ('2016-02-21', 1004, 2, 45.50);
BEGIN;
INSERT INTO orders (order_date, purchaser, quantity, total) VALUES ('2016-02-22', 1002, 1, 9.99);
UPDATE orders SET quantity = 3, total = 68.25 WHERE purchaser = 1004;
COMMIT;
DELETE FROM orders WHERE purchaser = 1001;
DELETE FROM customers WHERE id = 1003;
SQL

# --- read the topics with kcat -----------------------------------------------
count() { # count TOPIC: records in the topic now (0 if it does not exist yet)
	timeout 10 kcat -b "127.0.0.1:$KAFKA_PORT" -C -t "$1" -e -q -f 'x\n' 2>/dev/null | wc -l
}
# After the demo changes (not counting snapshot records, if any):
# customers: insert, update, delete + tombstone = 4; orders: 2 inserts,
# update, delete + tombstone = 5.
enough() { [ "$(count dbserver1.inventory.customers)" -ge 4 ] && [ "$(count dbserver1.inventory.orders)" -ge 5 ]; }
wait_for 30 "changes reached Kafka" enough ||
	log "fewer records than expected after 30s; printing what is there"

for topic in dbserver1.inventory.customers dbserver1.inventory.orders; do
	log "topic $topic"
	timeout 20 kcat -b "127.0.0.1:$KAFKA_PORT" -C -t "$topic" -e -q -Z \
		-f 'offset %o  key %k\n           value %s\n' || true
done
log "all topics"
timeout 10 kcat -b "127.0.0.1:$KAFKA_PORT" -L | grep -E '^  topic' || true

# --- stop ----------------------------------------------------------------------
log "stopping rivulet (SIGTERM)"
kill -TERM "$RIVULET_PID"
rc=0
wait "$RIVULET_PID" || rc=$?
RIVULET_PID=""
[ "$rc" -eq 0 ] || die "rivulet exited with $rc on SIGTERM (log: $DIR/rivulet.log)"
if [ -f "$DIR/offsets.json" ]; then
	log "stored offsets"
	cat "$DIR/offsets.json"
	echo
fi
log "demo finished"
