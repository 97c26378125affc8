# syntax=docker/dockerfile:1
# Rivulet container image: static binary (CGO_ENABLED=0) on distroless/static,
# which carries CA certificates and tzdata, running as the non-root user 65532.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t rivulet .
#   docker run -v $PWD/connector.json:/etc/rivulet/connector.json:ro -p 9404:9404 rivulet

ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION}" -o /out/rivulet ./cmd/rivulet \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rivulet /rivulet
# Offsets (offset.storage.file.filename) and file schema history live here;
# mount a volume on it. Owned by nonroot so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/rivulet
USER 65532:65532
# /metrics, /healthz, /readyz (metrics.listen, default :9404)
EXPOSE 9404
ENTRYPOINT ["/rivulet"]
CMD ["run", "--config", "/etc/rivulet/connector.json"]
