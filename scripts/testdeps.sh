#!/usr/bin/env bash
# Fetches the Java test dependencies (Apache Kafka broker and Connect, Debezium)
# pinned in scripts/testdeps/pom.xml into a cache outside the repository:
#   ${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}/lib/*.jar
# and compiles our own Java helpers (scripts/testdeps/java: the MariaDB shim
# for Debezium's MySqlConnector) against them into
#   ${RIVULET_TESTDEPS:-...}/helpers/rivulet-testdeps.jar
# and Apicurio Registry's fast-jar into ${RIVULET_TESTDEPS:-...}/apicurio/<version>
# (scripts/apicurio.sh).
# Each part re-runs only when its sources changed (a stamp holds their hash).
# Prints the cache path. internal/testenv reads the same variable and default.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}"
pom="$here/testdeps/pom.xml"
want="$(sha256sum "$pom" | cut -d' ' -f1)"
if ! { [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ] && [ -d "$cache/lib" ]; }; then
	command -v mvn >/dev/null || { echo "testdeps: mvn not found (apt-get install -y maven)" >&2; exit 1; }
	command -v java >/dev/null || { echo "testdeps: java not found (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
	mkdir -p "$cache"
	tmp="$(mktemp -d "$cache/lib.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	echo "testdeps: fetching Kafka and Debezium jars into $cache (Maven Central)" >&2
	mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime >&2
	# slf4j 1.x bindings pulled in transitively would shadow log4j's 2.x provider.
	rm -f "$tmp"/slf4j-api-1.* "$tmp"/slf4j-reload4j-* "$tmp"/slf4j-log4j12-*
	rm -rf "$cache/lib"
	mv "$tmp" "$cache/lib"
	trap - EXIT
	echo "$want" > "$cache/stamp"
fi

# Our helpers, compiled against the jars above.
hwant="$( (cat "$cache/stamp"; cd "$here/testdeps" && find java -type f -name '*.java' | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)"
if ! { [ -f "$cache/helpers/stamp" ] && [ "$(cat "$cache/helpers/stamp")" = "$hwant" ] && [ -f "$cache/helpers/rivulet-testdeps.jar" ]; }; then
	command -v javac >/dev/null || { echo "testdeps: javac not found (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
	tmp="$(mktemp -d "$cache/helpers.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	mkdir "$tmp/classes"
	find "$here/testdeps/java" -name '*.java' -print0 | xargs -0 javac -nowarn --release 17 -cp "$cache/lib/*" -d "$tmp/classes"
	jar cf "$tmp/rivulet-testdeps.jar" -C "$tmp/classes" .
	rm -rf "$tmp/classes"
	echo "$hwant" > "$tmp/stamp"
	rm -rf "$cache/helpers"
	mv "$tmp" "$cache/helpers"
	trap - EXIT
fi

# Apicurio Registry (the schema registry of the differential suite's Avro runs).
bash "$here/apicurio.sh" >/dev/null
echo "$cache"
