# syntax=docker/dockerfile:1
# Build both programs as static binaries, then ship them on a distroless
# base as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# What augur_build_info reports. The build context has no .git (see
# .dockerignore), so the toolchain cannot stamp the commit itself: `make
# image` passes both.
ARG VERSION=unknown
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    LDFLAGS="-s -w -X github.com/augurhq/augur/internal/app.stampedVersion=${VERSION} -X github.com/augurhq/augur/internal/app.stampedCommit=${COMMIT}" && \
    CGO_ENABLED=0 go build -trimpath -ldflags="$LDFLAGS" -o /out/web ./cmd/web && \
    CGO_ENABLED=0 go build -trimpath -ldflags="$LDFLAGS" -o /out/worker ./cmd/worker

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/web /out/worker /usr/local/bin/
# The distroless "nonroot" user, by number: the kubelet can check only a
# numeric user against runAsNonRoot, and deploy/k8s sets the same
# runAsUser (a test holds the two together).
USER 65532:65532
ENV APP_ENV=production HTTP_ADDR=:8080 METRICS_ADDR=:9090
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/web"]
