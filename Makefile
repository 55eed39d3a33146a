# ipsecgw build and test entry points. `make test` is what CI runs.
SHELL     := /bin/bash
GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

# TAGS=ipsecmb builds ESP's AES-GCM through Intel's ipsec-mb (esp/ipsecmb;
# Debian's libipsec-mb-dev, installed by the libipsec-mb target). GOFLAGS
# takes the tag to every go command below, and on to the go build with
# which bench/throughput makes its ipsecgw. `make TAGS=` builds without.
TAGS      ?= ipsecmb
export GOFLAGS := $(strip $(GOFLAGS) -tags=$(TAGS))

.PHONY: all build test deps libipsec-mb vet unit integration bench bench-micro bench-throughput bench-ike bench-ike-scale bench-cluster fuzz clean proto

all: build

build:
	$(GO) build ./...

# test: install missing test dependencies (as root), vet, unit tests with the
# race detector, then the root-only integration tests, which must run (not
# skip) when we are root.
test: deps vet unit integration

deps:
	@./scripts/install-test-deps.sh

# libipsec-mb: the header and library the ipsecmb tag compiles against.
build vet unit bench-micro bench-throughput fuzz: libipsec-mb
libipsec-mb:
	@if [[ " $(TAGS) " == *" ipsecmb "* ]] && [ ! -e /usr/include/intel-ipsec-mb.h ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "libipsec-mb-dev is missing: install it as root, or build without the fast AEAD: make TAGS=" >&2; exit 1; \
		fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q --no-install-recommends libipsec-mb-dev || \
			{ apt-get update -q && apt-get install -y -q --no-install-recommends libipsec-mb-dev; }; \
	fi

# proto: regenerate the management API's Go code (committed, so a build
# needs none of this). Needs protoc (Debian's protobuf-compiler) and the two
# Go plugins at the versions below.
PROTOC_GEN_GO      := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
proto:
	@command -v protoc >/dev/null || apt-get install -y --no-install-recommends protobuf-compiler
	GOBIN=$(CURDIR)/.bin $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(CURDIR)/.bin $(GO) install $(PROTOC_GEN_GO_GRPC)
	PATH=$(CURDIR)/.bin:$$PATH protoc --proto_path=mgmt/mgmtpb \
		--go_out=mgmt/mgmtpb --go_opt=paths=source_relative \
		--go-grpc_out=mgmt/mgmtpb --go-grpc_opt=paths=source_relative \
		mgmt/mgmtpb/ipsecgw.proto

# vet also checks that a build without the ipsecmb tag still compiles
# (-tags= on the command line overrides GOFLAGS).
vet:
	$(GO) vet ./...
	$(GO) build -tags= ./...
	$(GO) vet -tags= ./esp/...

# Unit tests: everything but the root-only suites under test/, which run
# once, in the integration target.
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v '^ipsecgw/test/')

# Root-only tests live in test/...; IPSECGW_REQUIRE_ROOT=1 turns their
# "skipped: not root" into a failure, so CI (root) cannot silently skip them.
# scripts/integration.sh runs test/e2e beside the other packages (each side
# one package at a time), with a 40-minute timeout per package.
integration:
	@if [ "$$(id -u)" = 0 ]; then GO=$(GO) ./scripts/integration.sh; \
	else \
		echo "WARNING: not root: skipping root-only integration tests (make test as root runs them)"; \
	fi

# bench: micro-benchmarks (ns/op, allocs/op; the ESP ones sit next to the
# bare AEAD seal of the same payload), then, as root, iperf3 through plain
# veth, ipsecgw and wireguard-go in one run, printed as ratios.
bench: bench-micro bench-throughput bench-ike

bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

bench-throughput:
	@if [ "$$(id -u)" = 0 ]; then $(GO) run ./bench/throughput -json $${BENCH_JSON:-/tmp/ipsecgw-throughput.json} $${BENCH_THROUGHPUT_ARGS:-}; \
	else echo "WARNING: not root: skipping bench/throughput (network namespaces); run make bench as root"; fi

# bench-ike: IKEv2 tunnel setup rate and memory per tunnel, ipsecgw and
# strongSwan as responders in one run (N tunnels, default 2000).
bench-ike:
	@if [ "$$(id -u)" = 0 ]; then $(GO) run ./cmd/ipsecgw bench ike -n $${N:-2000}; \
	else echo "WARNING: not root: skipping bench ike (network namespaces); run make bench-ike as root"; fi

# bench-cluster: etcd writes per second per 1,000 IKEv2 tunnels with dead
# peer detection on, against an embedded etcd (cluster/doc.go); then, as
# root, scale-out: IKEv2 tunnels set up per second and traffic with 1, 2
# and 3 nodes sharing one etcd, as ratios (bench/cluster; a few minutes;
# sizes in BENCH_CLUSTER_ARGS, e.g. "-n 10000 -t 20s -srgs 12").
bench-cluster:
	$(GO) test -run '^$$' -bench DPDWrites -benchtime 1x ./cluster/
	@if [ "$$(id -u)" = 0 ]; then $(GO) run ./cmd/ipsecgw bench cluster $${BENCH_CLUSTER_ARGS:-}; \
	else echo "WARNING: not root: skipping bench cluster (network namespaces); run make bench-cluster as root"; fi

# bench-ike-scale: 100,000 tunnels held by one ipsecgw responder (the
# IKEv2 issue's scale goal); minutes, not part of make bench.
bench-ike-scale:
	@if [ "$$(id -u)" = 0 ]; then $(GO) run ./cmd/ipsecgw bench ike -n $${N:-100000} -responders ipsecgw -groups group31; \
	else echo "WARNING: not root: skipping bench ike (network namespaces)"; fi

# fuzz: a short run of every fuzz target in the module.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	$(GO) clean -testcache
