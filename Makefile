# Targets a newcomer can guess. `make test` is what CI runs (.ci/run).
GO      ?= go
# The Go release the project is built and checked with (go.mod's toolchain line). This machine's
# go command ignores that line (GOTOOLCHAIN=local), so make asks for it; the module proxy serves it.
export GOTOOLCHAIN ?= go1.26.10
BINARY  ?= handler
PEER    := test/ehpeer
FUZZTIME ?= 10s

.PHONY: all build build-linux demo run func test test-go test-infra deps fuzz lint bench clean deploy down

all: build

## build: the handler binary at the app root, where host.json expects it
build:
	$(GO) build -trimpath -o $(BINARY) ./cmd/handler

## build-linux: the binary Azure runs (Linux, static)
build-linux:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags="-s -w" -o $(BINARY) ./cmd/handler

## demo: the handler end to end offline: a local OpenSky stand-in, the local Event Hubs peer (or a file), 3 ticks, a summary
demo:
	@bash scripts/demo.sh

## run: tick on OPENSKY_SCHEDULE against the real OpenSky, events to data/opensky.ndjson (Ctrl-C stops)
run: build
	./$(BINARY) run $(ARGS)

## func: run under Azure Functions Core Tools v4 (tools/func.sh checks for func and Azurite, and says how to get them)
func: build
	@bash tools/func.sh

## deps: install what the tests need (the local Event Hubs peer's npm packages)
deps:
	@command -v node >/dev/null || { echo "node (20+) is needed for the local Event Hubs peer: apt-get install nodejs npm"; exit 1; }
	@if [ -f $(PEER)/package-lock.json ]; then cd $(PEER) && npm ci --no-audit --no-fund --loglevel=error; fi

## test: every test: unit, integration (built binary, local OpenSky replay, local Event Hubs peer), infra checks, short fuzzing
test: deps test-go test-infra fuzz

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-infra:
	@if [ -f infra/check/go.mod ]; then cd infra/check && $(GO) vet ./... && $(GO) test -count=1 ./...; fi
	cd infra/adx && npm ci --no-audit --no-fund --loglevel=error && node --test test/*.test.js

## fuzz: each fuzz target for FUZZTIME. Go 1.26's fuzzer can end a run at -fuzztime with
## "context deadline exceeded" and no failing input (go.dev/issue/75804, fixed in Go 1.27): that
## case is reported and passed over; a real finding (a failing input written) fails.
fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | while read pkg dir; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f for $(FUZZTIME)"; \
	    out=$$($(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg 2>&1); rc=$$?; \
	    echo "$$out" | grep -v '^fuzz: elapsed'; \
	    if [ $$rc -ne 0 ]; then \
	      if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
	        echo "fuzz: $$f: no failing input; Go's -fuzztime race (go.dev/issue/75804), not a finding"; \
	      else exit 1; fi; \
	    fi; \
	  done; \
	done

## lint: gofmt, go vet, govulncheck (pinned; offline DB from golang.org/x/vulndb when vuln.go.dev is unreachable)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	GO=$(GO) bash tools/govulncheck.sh

## bench: benchmarks and side-by-side comparisons, written to BENCHMARKS.md
bench: deps
	bash bench/run.sh

## deploy: the whole pipeline to Azure with azd up (azd >= 1.20.0; turns on azd's alpha custom language for this command); see docs/DEPLOY.md
deploy:
	AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true azd up $(ARGS)

## down: delete the deployment's resource group and purge its Key Vault (azd down --purge)
down:
	AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true azd down --purge $(ARGS)

clean:
	rm -f $(BINARY)
