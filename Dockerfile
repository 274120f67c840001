# syntax=docker/dockerfile:1
# shopsynth: `docker build -t shopsynth .`
#
# The builder links against the libtorch of PyPI's torch wheel, as the Makefile
# does, and build.rs gives the binary an rpath to $LIBTORCH/lib. The runtime
# stage keeps that library folder at the same absolute path (/opt/torch), so
# the binary finds libtorch without LD_LIBRARY_PATH. The wheel's CUDA
# libraries (site-packages/nvidia) come along: libtorch_cuda finds them
# through its own $ORIGIN/../../nvidia rpath, and the NVIDIA container runtime
# mounts the driver on GPU nodes, so one image serves CPU and GPU pods.
#
# Build arguments:
#   RUNTIME_BASE   base of the runtime stage, e.g. a CUDA runtime image
#                  (nvidia/cuda:13.0.1-runtime-ubuntu24.04); it needs a glibc
#                  at least as new as bookworm's (2.36)
#   TORCH_VERSION  the torch wheel (keep it equal to the Makefile's)
ARG RUNTIME_BASE=debian:bookworm-slim

FROM rust:1.95-bookworm AS builder
ARG TORCH_VERSION=2.11.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
# The Makefile's layout: a virtualenv, and /opt/torch/torch -> its torch package.
RUN python3 -m venv /opt/torch \
 && /opt/torch/bin/pip install --no-cache-dir --disable-pip-version-check "torch==${TORCH_VERSION}" \
 && ln -sfn "$(/opt/torch/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')" /opt/torch/torch
ENV LIBTORCH=/opt/torch/torch
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && install -m 0755 target/release/shopsynth /usr/local/bin/shopsynth
# What the binary loads at run time, staged at the same absolute paths:
# torch/lib (libtorch, libc10, their bundled libgomp), the CUDA libraries
# beside it in site-packages/nvidia, and the /opt/torch/torch link.
RUN site="$(dirname "$(readlink -f /opt/torch/torch)")" \
 && mkdir -p "/stage${site}/torch" \
 && cp -a "${site}/torch/lib" "/stage${site}/torch/" \
 && if [ -d "${site}/nvidia" ]; then cp -a "${site}/nvidia" "/stage${site}/"; fi \
 && cp -a /opt/torch/torch /stage/opt/torch/torch

FROM ${RUNTIME_BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 shopsynth \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --shell /usr/sbin/nologin shopsynth
COPY --from=builder /stage/opt/torch /opt/torch
COPY --from=builder /usr/local/bin/shopsynth /usr/local/bin/shopsynth
# GPU pods: ask the NVIDIA container runtime for the compute libraries.
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    HOME=/tmp
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["shopsynth"]
CMD ["--help"]
