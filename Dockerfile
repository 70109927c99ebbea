# crawl container image: a build stage with the -dev packages from the
# project's package list (scripts/deps.sh), and a slim runtime stage with only
# the shared libraries and CA certificates, running as a non-root user.
# Plain Dockerfile syntax (no BuildKit-only features), so docker and podman
# both build it.
FROM debian:bookworm-slim AS build
COPY scripts/deps.sh /src/scripts/deps.sh
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(bash /src/scripts/deps.sh --print build) \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DCRAWL_TESTS=OFF -DCRAWL_BENCH=OFF -DCRAWL_WERROR=ON \
 && cmake --build /build -j"$(nproc)" \
 && DESTDIR=/out cmake --install /build --prefix /usr

FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="crawl" \
      org.opencontainers.image.description="Asynchronous HTTP fetcher and crawler: one JSON Lines record per URL" \
      org.opencontainers.image.version="0.1.0"
COPY scripts/deps.sh /tmp/deps.sh
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(bash /tmp/deps.sh --print runtime) \
 && rm -rf /var/lib/apt/lists/* /tmp/deps.sh \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin crawl \
 && mkdir -p /data && chown crawl:crawl /data
COPY --from=build /out/usr/ /usr/
USER crawl
WORKDIR /data
# crawl is PID 1: it handles SIGTERM (docker stop) itself, draining fetches in
# flight for --grace and leaving complete output.
STOPSIGNAL SIGTERM
ENTRYPOINT ["crawl"]
CMD ["--help"]
