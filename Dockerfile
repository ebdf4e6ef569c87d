# sluiced image: multi-stage build on debian:bookworm-slim.
#   docker build -t sluice .   (or: scripts/podman-build.sh, which needs no registry)
#   docker run -p 7070:7070 -v sluice-data:/var/lib/sluice \
#       -v ~/.aws/credentials:/etc/sluice/credentials:ro sluice
# Listening on 0.0.0.0 requires credentials (SigV4 / Bearer), so mount a
# credentials file; sluiced refuses to start without one.
# The image holds sluiced and sluice-proxy side by side in /usr/local/bin:
# sluiced starts the proxy from beside its own binary (see --proxy-bin).
# (No "# syntax=" line: it would make BuildKit pull a frontend image from a
# registry, and the build must work with only a Debian mirror reachable.)

FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev liblmdb-dev \
        libssl-dev python3 python3-yaml \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (tests are off); keep in step with .dockerignore.
COPY CMakeLists.txt ./
COPY cmake cmake
COPY common common
COPY openapi openapi
COPY store store
COPY routes routes
COPY server server
COPY proxy proxy
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=OFF \
    && cmake --build /build -j"$(nproc)" --target sluiced sluice-proxy \
    && install -D -m 0755 /build/sluiced /out/usr/local/bin/sluiced \
    && install -D -m 0755 /build/sluice-proxy /out/usr/local/bin/sluice-proxy

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libjansson4 liblmdb0 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/sluice --create-home --shell /usr/sbin/nologin sluice
COPY --from=build /out/ /
USER sluice
VOLUME /var/lib/sluice
EXPOSE 7070
ENV SLUICE_LISTEN=0.0.0.0:7070 \
    SLUICE_DATA_DIR=/var/lib/sluice \
    SLUICE_CREDENTIALS=/etc/sluice/credentials
ENTRYPOINT ["/usr/local/bin/sluiced"]
