# quorumchain — build, test and benchmark targets.
# cgo stays on: go-ethereum's secp256k1 is about 3x faster through libsecp256k1.
GO       ?= go
BIN      := bin/quorumchain
PKGS     := ./...
FUZZTIME ?= 20s
export CGO_ENABLED := 1

.PHONY: all build static image test race lint vet fmt-check bench bench-e2e bench-goals fuzz sim-long testnet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/quorumchain

## static: a statically linked quorumchain for the image: cgo on, with
## go-ethereum's libsecp256k1 compiled in; netgo and osusergo keep glibc's
## resolver and user lookups (which need shared libraries) out of it
STATIC ?= bin/static/quorumchain
static:
	$(GO) build -tags netgo,osusergo -ldflags '-s -w -extldflags -static' -o $(STATIC) ./cmd/quorumchain

## image: the FROM scratch image IMAGE (a non-root user runs the static
## binary); built locally, nothing is pulled
IMAGE ?= quorumchain:latest
image: static
	docker build -t $(IMAGE) -f Dockerfile $(dir $(STATIC))

## lint: gofmt and go vet must be clean
lint: fmt-check vet

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## test: lint, then every test (including 5,000 seeded consensus simulations),
## then the concurrent packages again under the race detector
RACE_PKGS := ./engine/... ./node/... ./rpc/... ./p2p/...
test: lint build
	$(GO) test -count=1 -timeout 12m $(PKGS)
	$(GO) test -race -count=1 -timeout 10m $(RACE_PKGS)

## race: the concurrent packages under the race detector
race:
	$(GO) test -race -count=1 -timeout 10m $(RACE_PKGS)

## bench: Go micro-benchmarks (see BENCHMARKS.md for the figures and method)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

## bench-e2e: 4-validator testnet under `quorumchain bench` at several rates; writes BENCHMARKS.md
bench-e2e: build
	BIN=$(BIN) scripts/bench-e2e.sh

## bench-goals: 60 s at 1,000 tx/s (latency per window), then 4, 7 and 10
## validators open loop and at 1,000 tx/s; writes BENCHMARKS.md
bench-goals: build
	BIN=$(BIN) scripts/bench-goals.sh

## fuzz: run every fuzz target for FUZZTIME each, print execs/s per target,
## fail on a crash or below FUZZ_MIN_RATE execs/s (see scripts/fuzz.sh)
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(PKGS)

## sim-long: 100,000 seeded Byzantine simulations (RUNS=N to change) from
## seed FIRST; without FIRST a random first seed is drawn and printed, so
## every long run explores seeds no earlier run did. make test stays on
## seeds 1-5,000.
RUNS ?= 100000
sim-long:
	@first="$(FIRST)"; \
	if [ -z "$$first" ]; then first=$$(( $$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') + 1 )); fi; \
	echo "sim-long: $(RUNS) seeds from $$first (make sim-long FIRST=$$first replays this range)"; \
	QUORUM_SIM_RUNS=$(RUNS) $(GO) test -count=1 -timeout 6h -run 'TestSimulate$$' -v ./consensus/sim -args -first "$$first"

## testnet: build, then start a 4-validator local testnet in the foreground
testnet: build
	$(BIN) testnet start -n 4

clean:
	rm -rf bin
