# Multi-stage build: compile in the Rust image, run in a slim Debian with libpq only.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin jifen

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin jifen \
    && mkdir -p /data && chown jifen:jifen /data
COPY --from=build /src/target/release/jifen /usr/local/bin/jifen
COPY seed-data /app/seed-data
WORKDIR /app
USER jifen
ENV JIFEN_BIND=0.0.0.0:8080 \
    JIFEN_DATA_DIR=/data \
    JIFEN_DATABASE_URL=sqlite:///data/jifen.db
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["jifen", "healthcheck"]
ENTRYPOINT ["jifen"]
CMD ["serve"]
