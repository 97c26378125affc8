#!/usr/bin/env bash
# Builds Confluent's AvroConverter (io.confluent.connect.avro.AvroConverter,
# schema-registry v8.3.1, the Confluent Platform line that tracks Apache Kafka
# 4.3) from its source, because io.confluent artifacts are not on Maven Central.
# The differential suite (internal/differential) converts Debezium's records with
# it, as a Connect worker configured with AvroConverter does. Output, outside the
# repository:
#   ${RIVULET_TESTDEPS:-$HOME/.cache/rivulet-testdeps}/confluent-avro/*.jar
# (one jar of Confluent's classes, and what scripts/confluent-avro/pom.xml fetches
# from Maven Central: Avro, Guava, httpclient5, ...; Kafka, Jackson and SLF4J come
# from lib/ of scripts/testdeps.sh). Prints that directory.
#
# Only the modules the converter needs are compiled, with plain javac (their
# Maven poms inherit io.confluent parents that Maven Central does not serve):
# client, schema-types, schema-serializer, avro-types, avro-serializer,
# schema-converter, avro-data and avro-converter of
#   ${CONFLUENT_GIT:-https://github.com/confluentinc/schema-registry.git}
# and config and utils of
#   ${CONFLUENT_COMMON_GIT:-https://github.com/confluentinc/common.git}
# at the tags below (commits checked). Either variable may name a local clone or
# mirror when GitHub is not reachable. The console formatters and the old Scala
# KafkaAvroDecoder are left out: they need Kafka tool APIs the converter never calls.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tag="v8.3.1"
commit="1591732f0d6aec44a5cbe4c3be555571d8ae8139"
common_tag="v8.3.1"
common_commit="6a902ee07c601203c5ed4529432105028eef1485"
modules="client schema-types schema-serializer avro-types avro-serializer schema-converter avro-data avro-converter"
common_modules="config utils"
pom="$here/confluent-avro/pom.xml"
cache="$(bash "$here/testdeps.sh")"
out="$cache/confluent-avro"
stamp="$tag $commit $common_tag $common_commit $(cat "$pom" "$0" | sha256sum | cut -d' ' -f1)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
	echo "$out"
	exit 0
fi
command -v git >/dev/null || { echo "confluent-avro: git not found (apt-get install -y git)" >&2; exit 1; }
command -v javac >/dev/null || { echo "confluent-avro: javac not found (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "confluent-avro: mvn not found (apt-get install -y maven)" >&2; exit 1; }
src="${CONFLUENT_GIT:-https://github.com/confluentinc/schema-registry.git}"
common_src="${CONFLUENT_COMMON_GIT:-https://github.com/confluentinc/common.git}"
tmp="$(mktemp -d "$cache/confluent-avro.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/classes" "$tmp/jars"

# fetch NAME VAR URL TAG COMMIT MODULE...: a bare, shallow fetch of the tag, its
# commit checked, and the modules' main trees extracted into $tmp/src.
fetch() {
	local name="$1" var="$2" url="$3" t="$4" want="$5"
	shift 5
	echo "confluent-avro: fetching $name $t from $url" >&2
	git init -q --bare "$tmp/$name.git"
	if ! git -C "$tmp/$name.git" fetch -q --depth 1 "$url" "refs/tags/$t:refs/tags/$t" >&2; then
		echo "confluent-avro: cannot fetch $t from $url; set $var to a reachable clone of github.com/confluentinc/$name" >&2
		exit 1
	fi
	local got
	got="$(git -C "$tmp/$name.git" rev-parse "refs/tags/$t^{commit}")"
	if [ "$got" != "$want" ]; then
		echo "confluent-avro: $t of $url is commit $got, want $want" >&2
		exit 1
	fi
	local paths=()
	for m in "$@"; do paths+=("$m/src/main"); done
	mkdir -p "$tmp/src/$name"
	git -C "$tmp/$name.git" archive "$want" "${paths[@]}" | tar -x -C "$tmp/src/$name"
}
fetch schema-registry CONFLUENT_GIT "$src" "$tag" "$commit" $modules
fetch common CONFLUENT_COMMON_GIT "$common_src" "$common_tag" "$common_commit" $common_modules

echo "confluent-avro: fetching the converter's dependencies (Maven Central)" >&2
mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp/jars" -DincludeScope=runtime >&2
find "$tmp/src" -path '*/src/main/java/*' -name '*.java' |
	grep -vE '/io/confluent/kafka/formatter/|/KafkaAvroDecoder\.java$' | LC_ALL=C sort > "$tmp/sources"
echo "confluent-avro: compiling $(wc -l < "$tmp/sources") sources" >&2
javac -nowarn -encoding UTF-8 --release 17 -d "$tmp/classes" -cp "$tmp/jars/*:$cache/lib/*" @"$tmp/sources" >&2
for r in "$tmp"/src/*/*/src/main/resources; do
	[ -d "$r" ] && cp -r "$r/." "$tmp/classes/"
done
# Filtered by Maven (application.version=${project.version}).
if [ -f "$tmp/classes/schema-registry-client-app.properties" ]; then
	echo "application.version=${tag#v}" > "$tmp/classes/schema-registry-client-app.properties"
fi
jar cf "$tmp/jars/confluent-avro-converter-${tag#v}.jar" -C "$tmp/classes" .
echo "$stamp" > "$tmp/jars/stamp"
rm -rf "$out"
mv "$tmp/jars" "$out"
echo "$out"
