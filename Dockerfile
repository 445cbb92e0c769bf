# syntax=docker/dockerfile:1
# Build both programs as static binaries, then ship them on a distroless
# base as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/web ./cmd/web && \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/worker ./cmd/worker

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/web /out/worker /usr/local/bin/
USER nonroot:nonroot
ENV APP_ENV=production HTTP_ADDR=:8080 METRICS_ADDR=:9090
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/web"]
