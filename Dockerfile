# scimd on Debian 12 in the layout `cmake --install` gives (docs/deploy.md "Container").
# Build: docker build -t scimd .   Run: see docs/deploy.md (public_url and the operator key
# come from the environment; the SQLite database lives in the volume /var/lib/scimd).
FROM debian:12-slim AS build
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN bash /src/tools/install-deps.sh run
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DSCIMD_TESTS=OFF \
        -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc \
    && cmake --build /build -j"$(nproc)" \
    && DESTDIR=/stage cmake --install /build

FROM debian:12-slim
# The shared libraries the daemon links, and the CA store for outbound HTTPS.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libmicrohttpd12 libjansson4 libsqlite3-0 \
        libpq5 libssl3 libcurl4 libcjose0 libxmlsec1 libxmlsec1-openssl libxml2 zlib1g \
        ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /stage/ /
RUN useradd --system --home-dir /var/lib/scimd --create-home --shell /usr/sbin/nologin scimd
USER scimd
ENV SCIMD_DATA_DIR=/var/lib/scimd SCIMD_LISTEN=0.0.0.0 SCIMD_PORT=8080
VOLUME /var/lib/scimd
EXPOSE 8080
# Liveness and readiness: GET /healthz (503 while the database cannot be written).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/scimd"]
CMD ["serve", "--config-file", "/etc/scimd/scimd.conf"]
