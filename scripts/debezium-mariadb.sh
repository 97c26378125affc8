#!/usr/bin/env bash
# Builds Debezium's MariaDB connector (debezium-connector-mariadb 3.6.1.Final)
# from its source, because Maven Central serves it only up to 3.5.0.Final and
# Debezium 3.6.1's MySqlConnector refuses MariaDB 10.11 ("should support SHOW
# BINARY LOG STATUS"). The differential suite (internal/differential) runs it as
# the reference. Output, outside the repository:
#   ${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}/mariadb/*.jar
# (the connector, compiled against lib/*.jar from scripts/testdeps.sh, and the
# MariaDB JDBC driver 3.5.3 that Debezium 3.6.1's pom pins). Prints that directory.
#
# The source is the tag v3.6.1.Final (commit checked below) of
#   ${DEBEZIUM_GIT:-https://github.com/debezium/debezium.git}
# DEBEZIUM_GIT may name a local clone or mirror when GitHub is not reachable.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tag="v3.6.1.Final"
commit="63371830ceff75437f95c775b91eeeaf55a056c1"
driver="org.mariadb.jdbc:mariadb-java-client:3.5.3"
cache="$(bash "$here/testdeps.sh")"
out="$cache/mariadb"
stamp="$tag $commit $driver"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
	echo "$out"
	exit 0
fi
command -v git >/dev/null || { echo "debezium-mariadb: git not found (apt-get install -y git)" >&2; exit 1; }
command -v javac >/dev/null || { echo "debezium-mariadb: javac not found (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
src="${DEBEZIUM_GIT:-https://github.com/debezium/debezium.git}"
tmp="$(mktemp -d "$cache/mariadb.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "debezium-mariadb: building debezium-connector-mariadb $tag from $src" >&2
# Only the module's main tree is needed: a bare, shallow fetch of the tag.
git init -q --bare "$tmp/git"
if ! git -C "$tmp/git" fetch -q --depth 1 "$src" "refs/tags/$tag:refs/tags/$tag" >&2; then
	echo "debezium-mariadb: cannot fetch $tag from $src; set DEBEZIUM_GIT to a reachable clone of github.com/debezium/debezium" >&2
	exit 1
fi
got="$(git -C "$tmp/git" rev-parse "refs/tags/$tag^{commit}")"
if [ "$got" != "$commit" ]; then
	echo "debezium-mariadb: $tag of $src is commit $got, want $commit" >&2
	exit 1
fi
mkdir -p "$tmp/src" "$tmp/classes" "$tmp/jars"
git -C "$tmp/git" archive "$commit" debezium-connector-mariadb/src/main | tar -x -C "$tmp/src"
main="$tmp/src/debezium-connector-mariadb/src/main"
mvn -q -B dependency:copy -Dartifact="$driver" -DoutputDirectory="$tmp/jars" >&2
find "$main/java" -name '*.java' > "$tmp/sources"
javac -nowarn -encoding UTF-8 -d "$tmp/classes" -cp "$tmp/jars/*:$cache/lib/*" @"$tmp/sources" >&2
cp -r "$main/resources/." "$tmp/classes/"
# The build.version resource is filtered by Maven (version=${project.version}).
echo "version=${tag#v}" > "$tmp/classes/io/debezium/connector/mariadb/build.version"
jar cf "$tmp/jars/debezium-connector-mariadb-${tag#v}.jar" -C "$tmp/classes" .
echo "$stamp" > "$tmp/jars/stamp"
rm -rf "$out"
mv "$tmp/jars" "$out"
echo "$out"
