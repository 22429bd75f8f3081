# t5gw. Run as root on Debian 12 with Go 1.26: `make demo`, `make test`.
export PATH := $(PATH):/usr/local/go/bin
GO ?= go

.PHONY: all build deps demo test unit integration bench bench-upstream curves curves-upstream deb fuzz clean

all: build

build:
	$(GO) build -o bin/t5gwd ./cmd/t5gwd
	$(GO) build -o bin/t5gwctl ./cmd/t5gwctl

# The Debian package (t5gwd, t5gwctl, the systemd unit, an example config)
# in dist/.
deb:
	sh cmd/t5gwd/packaging/build-deb.sh dist

deps:
	bash .ci/install

# The main job in network namespaces: a BIRD worker, t5gwd, an FRR EVPN peer,
# and what that peer received.
demo: deps
	$(GO) test -count=1 -v -run '^TestDemo$$' ./test/

# Every test: unit tests, the loopback speaker tests and the daemon's own
# tests under the race detector, then the real-router tests in namespaces.
test: deps
	$(GO) build ./...
	$(GO) vet ./...
	$(GO) vet -tags realkernel ./...
	$(GO) test -count=1 -race ./config/... ./evpn/... ./bgp/... ./cmd/... ./vrf/...
	$(MAKE) fuzz FUZZTIME=10s
	$(GO) test -count=1 -timeout 20m ./test/...

# Each fuzz target for FUZZTIME (10s in make test); longer with
# make fuzz FUZZTIME=10m.
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzTranslate$$' -fuzztime $(FUZZTIME) ./evpn/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadVRF$$' -fuzztime $(FUZZTIME) ./config/
	$(GO) test -run '^$$' -fuzz '^FuzzUpdate$$' -fuzztime $(FUZZTIME) ./bgp/

# t5gw, FRR doing the same job, and the floor at 10x1000, 100x1000, 1000x100
# and 10x10000, three runs each, and churn at 100x1000; writes docs/benchmarks.md,
# docs/churn.md, CPU profiles of t5gw to docs/profile.md, its heap to
# docs/heap.md and what a restart costs the fabric to docs/restart.md (about
# 25 minutes).
bench: deps
	$(GO) test -run XXX -bench . -benchmem ./evpn/... ./bgp/
	$(GO) test -run XXX -bench 'BenchmarkGateway|BenchmarkProfile|BenchmarkChurn|BenchmarkHeap|BenchmarkRestart' -benchtime 1x -timeout 90m ./test/bench/

# t5gwd on GoBGP with the patches of docs/upstream/series, side by side with
# the released build and FRR: the gateway benchmark, churn and the heap;
# writes docs/upstream/benchmarks.md, churn.md and heap.md (about 35 minutes).
UPSTREAM := T5GW_BENCH_BUILDS=upstream=$(CURDIR)/bin/t5gwd-upstream T5GW_BENCH_DOCS=$(CURDIR)/docs/upstream
bench-upstream: deps
	sh test/bench/upstream-t5gwd.sh bin/t5gwd-upstream
	$(UPSTREAM) T5GW_BENCH_SYSTEMS=t5gw,t5gw+upstream,frr $(GO) test -run XXX -bench 'BenchmarkGateway|BenchmarkChurn' -benchtime 1x -timeout 90m ./test/bench/
	$(UPSTREAM) T5GW_BENCH_SYSTEMS=t5gw+upstream $(GO) test -run XXX -bench BenchmarkHeap -benchtime 1x -timeout 90m ./test/bench/

# t5gw and FRR along three curves: routes to 1,000,000, workers to 5,000,
# VRFs to 200; writes docs/curves.md and its charts (about 20 minutes).
curves: deps
	$(GO) test -run XXX -bench BenchmarkCurves -benchtime 1x -timeout 90m ./test/bench/

# The same curves with t5gwd on GoBGP with docs/upstream/series, beside FRR;
# writes docs/upstream/curves.md and its charts.
curves-upstream: deps
	sh test/bench/upstream-t5gwd.sh bin/t5gwd-upstream
	$(UPSTREAM) T5GW_BENCH_SYSTEMS=t5gw+upstream,frr $(GO) test -run XXX -bench BenchmarkCurves -benchtime 1x -timeout 90m ./test/bench/

clean:
	rm -rf bin dist
