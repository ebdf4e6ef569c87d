# syntax=docker/dockerfile:1
# sluiced image: multi-stage build on debian:bookworm-slim.
#   docker build -t sluice .   (or: scripts/podman-build.sh, which needs no registry)
#   docker run -p 7070:7070 -v sluice-data:/var/lib/sluice \
#       -v ~/.aws/credentials:/etc/sluice/credentials:ro sluice
# Listening on 0.0.0.0 requires credentials (SigV4 / Bearer), so mount a
# credentials file; sluiced refuses to start without one.

FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev liblmdb-dev \
        libssl-dev python3 python3-yaml \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY common common
COPY store store
COPY routes routes
COPY server server
COPY proxy proxy
COPY openapi openapi
COPY tests tests
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=OFF \
    && cmake --build /build -j"$(nproc)" \
    && install -D -m 0755 /build/sluiced /out/usr/local/bin/sluiced \
    && if [ -x /build/sluice-proxy ]; then \
         install -m 0755 /build/sluice-proxy /out/usr/local/bin/sluice-proxy; fi

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libjansson4 liblmdb0 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/sluice --create-home sluice
COPY --from=build /out/ /
USER sluice
VOLUME /var/lib/sluice
EXPOSE 7070
ENV SLUICE_LISTEN=0.0.0.0:7070 \
    SLUICE_DATA_DIR=/var/lib/sluice \
    SLUICE_CREDENTIALS=/etc/sluice/credentials
ENTRYPOINT ["/usr/local/bin/sluiced"]
