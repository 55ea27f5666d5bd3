# syntax=docker/dockerfile:1
# The image the CI/CD component (templates/tokenscope-audit) runs: the
# tokenscope binary on a small base with a shell, since GitLab Runner's Docker
# executor runs a job's script with the image's sh.
#
#   docker build -t registry.example.com/tools/tokenscope:v1.0.0 --build-arg VERSION=v1.0.0 .

# Build: a static binary (no cgo, so no libc to match at run time), without
# local paths in it.
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/tokenscope/tokenscope/internal/cli.Version=${VERSION}" \
      -o /out/tokenscope ./cmd/tokenscope

# Run: Alpine for sh, cp and CA certificates; the job runs as an unprivileged
# user that owns nothing but its working directory.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates \
 && addgroup -S -g 65532 tokenscope \
 && adduser -S -D -H -u 65532 -G tokenscope -s /sbin/nologin tokenscope \
 && mkdir /work && chown 65532:65532 /work
COPY --from=build /out/tokenscope /usr/local/bin/tokenscope
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/tokenscope"]
CMD ["--help"]
