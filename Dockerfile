# syntax=docker/dockerfile:1
# Creditkit: a static Go binary with the schema and the browser assets
# embedded, run as a non-root user. Needs only DATABASE_URL and the WHOP_*
# variables at run time (see .env.example).

# 1. The pinned iframe SDK from npm (there is no CDN build of it).
FROM node:20-bookworm-slim AS js
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# 2. Bundle it with the Go-pinned esbuild (the app's bundle only: the
#    sandbox's host bundle is for development), then build the server. The
#    binary embeds static/ and migrations/ and links nothing of the sandbox.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=js /src/node_modules ./node_modules
RUN make static/dist/whop-iframe.js
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/creditkit ./cmd/creditkit

# 3. Nothing but the binary, as nonroot.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/creditkit /usr/local/bin/creditkit
ENV PORT=3000
EXPOSE 3000
USER nonroot:nonroot
# No shell or curl here: the binary probes itself (GET 127.0.0.1:$PORT/readyz,
# exit 0 only on 200: database reachable and schema current).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/creditkit", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/creditkit"]
CMD ["serve"]
