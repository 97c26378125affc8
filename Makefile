# Rivulet build, test and demo entry points. CI runs `make test` via .ci/run.

GO       ?= go
BIN      := bin/rivulet
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...

.PHONY: all build test test-short test-verify-large test-ddl-corpus lint vet fmt bench demo chaos differential validate-deploy clean testdeps tools

all: lint build test

## build: static-friendly binary at bin/rivulet with the version from git describe
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rivulet

## testdeps: the Java test dependencies (Apache Kafka 4.3.0 broker and Connect, Debezium 3.6.1.Final,
##           Apicurio Registry 3.3.3)
##           fetched with Maven into $${RIVULET_TESTDEPS:-~/.cache/rivulet-testdeps}, Debezium's MariaDB
##           connector and Confluent's AvroConverter built from their sources; a no-op when present
testdeps:
	@bash scripts/testdeps.sh >/dev/null
	@bash scripts/debezium-mariadb.sh >/dev/null || echo "testdeps: Debezium's MariaDB connector could not be built (above); the differential suite uses Debezium's MySqlConnector with our MariaDB shim instead" >&2
	@bash scripts/confluent-avro.sh >/dev/null || echo "testdeps: Confluent's AvroConverter could not be built (above; CONFLUENT_GIT and CONFLUENT_COMMON_GIT may name local clones); the differential suite's Avro runs (TestDifferential_Avro) fail with this reason" >&2

## tools: helm (pinned, built from the Go module proxy into bin/tools once) for the chart tests
HELM_VERSION := v3.19.0
tools: bin/tools/helm
bin/tools/helm:
	GOBIN=$(CURDIR)/bin/tools $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

## test: vet, then every test with the race detector (starts its own mariadbd, Apache Kafka broker
##       and kfake); prints the reliability table (RELIABILITY.md §3: test, invariant, result) and its
##       figures at the end
test: vet testdeps tools
	$(GO) test -race -count=1 -timeout 15m -json $(PKGS) | $(GO) run ./internal/reliability/reltable

## test-ddl-corpus: every file of MariaDB's mysql-test suite (apt-get install mariadb-test) replayed
##        against a real MariaDB while the reader and tracker stream (internal/ddlcorpus, issue 17);
##        prints statements seen/parsed/classified/resolved per fallback/stops and tables right.
##        About 6,500 files at 3-6 s each: hours, so not in CI. RIVULET_DDL_CORPUS_STRIDE=20 and
##        RIVULET_DDL_CORPUS_BUDGET=30m give a spread sample; `make test` replays five files.
test-ddl-corpus:
	RIVULET_DDL_CORPUS=$${RIVULET_DDL_CORPUS:-all} $(GO) test -count=1 -timeout 24h -v -run TestDDLCorpus_MariaDB ./internal/ddlcorpus

## test-verify-large: `rivulet verify` over 1,000,000-row tables after a streaming run and after a
##        snapshot under concurrent writes (binaries without -race; several minutes, so outside `make test`)
test-verify-large:
	RIVULET_VERIFY_ROWS=$${RIVULET_VERIFY_ROWS:-1000000} $(GO) test -count=1 -timeout 40m -v -run '^TestVerify_Large$$' ./cmd/rivulet

## test-short: unit tests only (integration tests skip under -short)
test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint: gofmt must report nothing, then go vet
lint: vet
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: end-to-end figures (internal/bench: 1M row changes, binlog -> Apache Kafka, Rivulet and
##        Debezium side by side; snapshot and `rivulet verify` of 1M rows, with verify's cost on MariaDB),
##        then the decode/encode micro-benchmarks
bench: build testdeps
	$(GO) run ./internal/bench -rivulet $(BIN)
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./binlog ./sink ./offsets ./verify

## demo: MariaDB -> rivulet -> embedded Kafka -> kcat, end to end on this machine
demo:
	bash scripts/demo.sh

## chaos: the whole fault and bad-input suite (internal/reliability, RELIABILITY.md §3): every test
##        of the table, the slow ones included, plus the randomised run (SIGKILLs, mariadbd restarts,
##        connection drops, broker stalls under a counter + DDL workload) for RIVULET_CHAOS_DURATION
##        (default 3m); prints the table and the figures
chaos: testdeps
	RIVULET_CHAOS=1 $(GO) test -race -count=1 -timeout 60m -json -run "$$($(GO) run ./internal/reliability/reltable -regex)" $(PKGS) | $(GO) run ./internal/reliability/reltable -v

## differential: the whole differential suite (internal/differential): Debezium 3.6.1's MariaDB
##        connector (built by scripts/debezium-mariadb.sh) and Rivulet on the same MariaDB and
##        workload, every record compared, in every value-handling mode and with schemas off, and
##        with Confluent's AvroConverter (built by scripts/confluent-avro.sh) for Debezium and
##        Rivulet's Avro, both on one real registry (Apicurio Registry, scripts/apicurio.sh);
##        `make test` runs its fast subset. README: "Known differences from Debezium 3.6.1"
differential: testdeps
	RIVULET_DIFFERENTIAL=full $(GO) test -race -count=1 -timeout 20m ./internal/differential

## validate-deploy: syntax-check docker-compose.yml and deploy configs (no docker engine needed)
validate-deploy:
	bash scripts/validate-deploy.sh

clean:
	rm -rf bin coverage.out coverage.html
