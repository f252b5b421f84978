# Isobar's build. `make build` then `bin/isobar ...`; `make test` is what CI runs.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

GO       ?= go
BIN      := bin/isobar
# Packages whose tests compare with golden/ (a test binary without -update
# support fails on `./... -update`, so they are listed).
GOLDEN_PKGS := ./controlplane/ ./sim/scenario/ ./cmd/isobar/
FUZZTIME ?= 10s
BENCHTIME ?= 3x

.PHONY: all build test vet unit race fuzz fuzz-guided bench update-golden generate check-generate lint envtest-assets clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/isobar

# envtest-assets installs etcd (Debian) and builds kube-apiserver once, cached
# outside the repository (~/.cache/isobar), and prints the folder.
envtest-assets:
	@./scripts/envtest-assets.sh

vet:
	$(GO) vet ./...

unit:
	KUBEBUILDER_ASSETS="$$(./scripts/envtest-assets.sh)" $(GO) test -count=1 -timeout 15m ./...

# race runs the packages whose code runs concurrently (the xDS server and
# its streams, the live loop, parallel decoding, the graph's and the
# translation's work on every core, the resource sorts, and a whole
# compile of a generated cluster on four cores) under the race detector.
RACE_PKGS := ./controlplane/server/ ./controlplane/live/ ./controlplane/snapshot/ ./controlplane/source/ ./internal/parallel/ \
	./controlplane/graph/ ./controlplane/translate/ ./controlplane/xds/
race:
	$(GO) test -race -count=1 -timeout 10m $(RACE_PKGS)
	$(GO) test -race -count=1 -timeout 10m -run 'TestCompileSameOnAnyCoreCount' ./controlplane/

# fuzz runs every Fuzz target for FUZZTIME each (a smoke run in `make test`).
# The test binary is built without coverage instrumentation: instrumenting the
# Kubernetes and Envoy packages makes each execution take seconds, while plain
# random mutation runs ~1,500 inputs a second. `make fuzz-guided` runs Go's
# coverage-guided mode instead.
fuzz:
	@mkdir -p bin/fuzz
	@for pkg in $$($(GO) list ./...); do \
	  for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    bin=bin/fuzz/$$(echo $$pkg | tr / _).test; \
	    $(GO) test -c -o $$bin $$pkg; \
	    dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	    echo "fuzz $$pkg $$fz ($(FUZZTIME))"; \
	    ./scripts/fuzz-run.sh $(CURDIR)/$$bin $$dir $$fz $(FUZZTIME) $(CURDIR)/bin/fuzz/cache || exit 1; \
	  done; \
	done

fuzz-guided:
	@for pkg in $$($(GO) list ./...); do \
	  for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    $(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

test: lint check-generate unit race fuzz

# bench needs the envtest assets too: the operator's TestMain starts an API
# server before any benchmark runs.
bench:
	KUBEBUILDER_ASSETS="$$(./scripts/envtest-assets.sh)" $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./...

update-golden:
	$(GO) test -count=1 $(GOLDEN_PKGS) -run 'Golden|Scenario|Fixture|README' -update

generate:
	$(GO) tool controller-gen object paths=./controlplane/apis/... paths=./operator/api/...
	$(GO) tool controller-gen crd:crdVersions=v1 paths=./controlplane/apis/... output:crd:dir=./deploy/crds
	scripts/crd-port-error.sh deploy/crds/projectcontour.io_httpproxies.yaml deploy/crds/contour.heptio.com_ingressroutes.yaml
	$(GO) tool controller-gen crd:crdVersions=v1 paths=./operator/api/... output:crd:dir=./deploy/operator/crds
	$(GO) run ./operator/installgen > deploy/operator/install.yaml

# check-generate fails when generated files are stale.
check-generate: generate
	@git diff --exit-code -- controlplane/apis operator/api deploy || \
	  { echo "generated files are out of date: run make generate and commit"; exit 1; }

lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf bin
