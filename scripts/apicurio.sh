#!/usr/bin/env bash
# Fetches Apicurio Registry, a schema registry with Confluent's REST API (under
# /apis/ccompat/v7) that runs without Docker, for the differential suite's Avro
# runs (internal/differential: Debezium's AvroConverter and Rivulet register
# with it and read their schemas back by id). Maven Central serves the
# registry's Quarkus fast-jar as the "all" tar.gz of io.apicurio:apicurio-registry-app
# (lib/, app/, quarkus/, quarkus-run.jar); it is unpacked into
#   ${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}/apicurio/<version>/
# Its classes are compiled for Java 21: internal/testenv runs it with the first
# JDK of release 21 or later it finds ($RIVULET_REGISTRY_JAVA_HOME, $JAVA_HOME,
# /usr/lib/jvm/*). Storage is its default, H2 in memory.
# Re-runs only when the pinned version or this script changed (a stamp holds
# both). Prints the directory. Run by scripts/testdeps.sh.
set -euo pipefail
version="3.3.3"
sha256="8bc6751c76d963734224b01d5e7f84ccb3cb61c87d3bd77c36c35f10a5cbed63"
coords="io.apicurio:apicurio-registry-app:$version:tar.gz:all"
cache="${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}"
out="$cache/apicurio/$version"
stamp="$version $sha256 $(sha256sum "$0" | cut -d' ' -f1)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/quarkus-run.jar" ]; then
	echo "$out"
	exit 0
fi
command -v mvn >/dev/null || { echo "apicurio: mvn not found (apt-get install -y maven)" >&2; exit 1; }
mkdir -p "$cache/apicurio"
tmp="$(mktemp -d "$cache/apicurio/fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "apicurio: fetching $coords (about 160 MB) from Maven Central into $out" >&2
if ! mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:2.8:copy -Dartifact="$coords" -DoutputDirectory="$tmp" -Dmdep.useBaseVersion=true >&2; then
	echo "apicurio: Maven could not fetch $coords" >&2
	exit 1
fi
tgz="$tmp/apicurio-registry-app-$version-all.tar.gz"
got="$(sha256sum "$tgz" | cut -d' ' -f1)"
if [ "$got" != "$sha256" ]; then
	echo "apicurio: $coords has sha256 $got, want $sha256" >&2
	exit 1
fi
mkdir "$tmp/app"
tar xzf "$tgz" -C "$tmp/app"
rm -f "$tgz"
[ -f "$tmp/app/quarkus-run.jar" ] || { echo "apicurio: $coords holds no quarkus-run.jar" >&2; exit 1; }
echo "$stamp" > "$tmp/app/stamp"
rm -rf "$out"
mv "$tmp/app" "$out"
echo "$out"
