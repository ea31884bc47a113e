# Creditkit — the two commands that matter are `make dev` and `make test`.
SHELL := /bin/bash
GO ?= go
ESBUILD := $(GO) tool esbuild
ESBUILD_FLAGS := --bundle --format=iife --target=es2020 --minify --log-level=warning \
	--define:process.env.NEXT_PUBLIC_WHOP_APP_ID=undefined --define:process.env.NODE_ENV='"production"'

APP_BUNDLE := static/dist/whop-iframe.js
HOST_BUNDLE := internal/whopsim/assets/dist/whop-host.js

.PHONY: help dev test test-faults bench assets bundle generate check clean whopsim

## dev: run the app and the Whop sandbox locally (127.0.0.1 only), with a Postgres found or
## started under .data/; ports 3000 (app), 8003 (sandbox) and 8004 (relay) move with
## make dev APP_PORT=3100 SANDBOX_PORT=8103 RELAY_PORT=8104 (or devstack's -app-port, …);
## make dev POOLER=1 puts PgBouncer (transaction mode, port 54330 or POOLER_PORT) in front
## of the project-local cluster, as a pooled deployment runs
dev: assets
	$(GO) run ./cmd/devstack

## test: every test — unit, Postgres integration, sandbox and browser
test: assets
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: micro-benchmarks (-benchmem), then cmd/bench against production mode: each hot path
## beside its floor in alternating rounds; prints the table and writes JSON, an SVG plot and
## the app's CPU profiles under bench/results/ (never part of make test). BENCH_FLAGS replaces
## the flags, e.g. make bench BENCH_FLAGS="-duration 20s -paths ingest,repeats"
BENCH_FLAGS ?= -profile
bench: assets
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/whop ./internal/money ./web/page ./cmd/creditkit
	$(GO) run ./cmd/bench $(BENCH_FLAGS)

## test-faults: the fault tests (issue 8): two real replicas, a storm of deliveries, kill -9,
## Postgres stopped past Whop's retry window, a slow Whop, four replicas through PgBouncer
## with reports on a streaming standby that is killed; each scenario prints what it injected and counted
test-faults: assets
	set -o pipefail; $(GO) test -tags faults -count=1 -v -timeout 25m ./internal/testkit/faults/... 2>&1 \
		| grep --line-buffered -v -E '^(=== (RUN|PAUSE|CONT)|--- PASS)'

## whopsim: the sandbox as one self-contained binary, bin/whopsim (browser assets and the
## iframe host bundle embedded; copy it anywhere: `bin/whopsim serve --state-file whopsim.json`)
whopsim: assets
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/whopsim ./cmd/whopsim
	@echo "built bin/whopsim (run it with: bin/whopsim serve --app http://127.0.0.1:3000)"

## assets: install the pinned JS dependencies and bundle the iframe SDK (app and sandbox host)
assets: node_modules/.package-lock.json
	@$(MAKE) --no-print-directory bundle

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## bundle: only the esbuild step, for when node_modules is already in place (the Dockerfile)
bundle: $(APP_BUNDLE) $(HOST_BUNDLE)

$(APP_BUNDLE): static/js/whop-iframe.entry.js package-lock.json
	$(ESBUILD) static/js/whop-iframe.entry.js $(ESBUILD_FLAGS) --outfile=$@

$(HOST_BUNDLE): internal/whopsim/assets/host.entry.js package-lock.json
	$(ESBUILD) internal/whopsim/assets/host.entry.js $(ESBUILD_FLAGS) --outfile=$@

## generate: regenerate templ views (generated files are committed)
generate:
	$(GO) tool templ generate

## check: what CI also asserts — formatting, vet, generated code and go.mod are clean
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) tool templ generate && git diff --exit-code -- web/
	$(GO) mod tidy && git diff --exit-code -- go.mod go.sum

clean:
	rm -rf static/dist/*.js internal/whopsim/assets/dist/*.js bin/

## help: list these targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
