#!/usr/bin/env bash
# Fetches the Java test dependencies (Apache Kafka broker and Connect, Debezium)
# pinned in scripts/testdeps/pom.xml into a cache outside the repository:
#   ${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}/lib/*.jar
# Re-runs only when the pom changed (a stamp holds its hash). Prints the cache path.
# internal/testenv reads the same variable and default.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}"
pom="$here/testdeps/pom.xml"
want="$(sha256sum "$pom" | cut -d' ' -f1)"
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ] && [ -d "$cache/lib" ]; then
	echo "$cache"
	exit 0
fi
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
echo "$cache"
