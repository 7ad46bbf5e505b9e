# syntax=docker/dockerfile:1
#
# The homelabc release: a static musl binary, and the images CI steps run it from
# (SPEC §2.5: CI steps never compile homelabc). One recipe for every architecture:
# the build stage runs on the build machine's platform and cross-compiles for the
# target's (no emulation of rustc), with cargo-zigbuild, whose zig is the C compiler
# and linker for musl on amd64 and arm64 alike (mimalloc is C).
#
#   docker buildx build --platform linux/amd64,linux/arm64 .                  # the CI image
#   docker buildx build --platform linux/amd64,linux/arm64 --target static .  # the binary alone
#   docker buildx build --platform linux/amd64,linux/arm64 --target static \
#       --output type=local,dest=dist .          # dist/linux_<arch>/homelabc, the release binaries
#
# .github/workflows/release.yml runs these on a `v*` tag; .ci/run builds the amd64
# binary with the same tools and versions (it reads them from this file).

ARG RUST_VERSION=1.95
ARG ALPINE_VERSION=3.22

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-bookworm AS build
# The cross toolchain, from PyPI: cargo-zigbuild and zig ship there as wheels.
ARG CARGO_ZIGBUILD_VERSION=0.24.1
ARG ZIGLANG_VERSION=0.17.1
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/zig \
    && /opt/zig/bin/pip install --no-cache-dir \
        "cargo-zigbuild==${CARGO_ZIGBUILD_VERSION}" "ziglang==${ZIGLANG_VERSION}"
ENV PATH=/opt/zig/bin:$PATH
RUN rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl
WORKDIR /src
COPY . .
ARG TARGETARCH
RUN case "$TARGETARCH" in \
        amd64) target=x86_64-unknown-linux-musl ;; \
        arm64) target=aarch64-unknown-linux-musl ;; \
        *) echo "no musl target for $TARGETARCH" >&2; exit 1 ;; \
    esac \
    && cargo zigbuild --locked --profile dist --target "$target" \
    && cp "target/$target/dist/homelabc" /homelabc

# The binary alone, for `docker run` and pre-commit's docker_image hooks (tag
# `<version>-static`); exported with `--output`, it is the release binary.
FROM scratch AS static
COPY --from=build /homelabc /homelabc
ENTRYPOINT ["/homelabc"]

# What pipelines' GitOps deploy steps run (tag `<version>`, the default
# `homelabc-image`): homelabc, git to clone, commit and push, a POSIX shell for
# Tekton, Drone and Woodpecker, and bash for GitHub Actions' `shell: bash` steps.
FROM alpine:${ALPINE_VERSION} AS ci
# hadolint ignore=DL3018
RUN apk add --no-cache bash ca-certificates git openssh-client \
    && git config --system --add safe.directory '*'
COPY --from=build /homelabc /usr/local/bin/homelabc
WORKDIR /src
CMD ["homelabc", "--help"]
