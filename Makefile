# Rivulet build, test and demo entry points. CI runs `make test` via .ci/run.

GO       ?= go
BIN      := bin/rivulet
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...

.PHONY: all build test test-short lint vet fmt bench demo chaos validate-deploy clean

all: lint build test

## build: static-friendly binary at bin/rivulet with the version from git describe
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rivulet

## test: vet, then every test with the race detector (starts its own mariadbd and kfake)
test: vet
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## test-short: unit tests only (integration tests skip under -short)
test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint: gofmt must report nothing, then go vet
lint: vet
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: end-to-end figures (internal/bench: 1M row changes, binlog -> kfake in its own process),
##        then the decode/encode micro-benchmarks
bench: build
	$(GO) run ./internal/bench -rivulet $(BIN)
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./binlog ./sink ./offsets

## demo: MariaDB -> rivulet -> embedded Kafka -> kcat, end to end on this machine
demo:
	bash scripts/demo.sh

## chaos: failure-injection tests only (convention: named TestChaos*, e.g. kill
## mariadbd or fail Kafka produces mid-stream, then assert nothing lost or duplicated)
chaos:
	$(GO) test -race -count=1 -timeout 30m -run 'Chaos' -v $(PKGS)

## validate-deploy: syntax-check docker-compose.yml and deploy configs (no docker engine needed)
validate-deploy:
	bash scripts/validate-deploy.sh

clean:
	rm -rf bin coverage.out coverage.html
