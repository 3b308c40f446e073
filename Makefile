# nonroot-init: build, test, benchmark and demo.
GO       ?= go
BIN      := bin/nonroot-init
# VERSION is the tag vX.Y.Z when HEAD is one; else git describe's long
# form, vX.Y.Z-N-gHASH, from the last such tag (N commits since it, HASH
# 12 hex digits of the commit); else, with no tag reachable (or a shallow
# clone without tags), v0.0.0-gHASH. A work tree with changes to tracked
# files adds -dirty; two clean clones of one commit get the same VERSION.
# Both are computed once (:=); VERSION=... or COMMIT=... on the command
# line or in the environment wins.
ifeq ($(origin VERSION),undefined)
VERSION  := $(shell \
  m='v[0-9]*.[0-9]*.[0-9]*'; \
  v=$$(git describe --tags --match "$$m" --exact-match 2>/dev/null) || \
  v=$$(git describe --tags --match "$$m" --long --abbrev=12 2>/dev/null) || \
  v=v0.0.0-g$$(git rev-parse --short=12 HEAD 2>/dev/null) || v=v0.0.0-unknown; \
  git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet HEAD -- 2>/dev/null && v=$$v-dirty; \
  echo $$v)
endif
ifeq ($(origin COMMIT),undefined)
COMMIT   := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
endif
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Tests run one package at a time: the integration tests start many
# processes and namespaces, and the machine has two cores.
TESTFLAGS ?= -race -count=1 -p 1 -timeout 40m

# The release: one static, stripped binary per ARCH (Go's GOARCH names,
# as Docker's TARGETARCH), and their checksums.
ARCHES   := amd64 arm64 ppc64le s390x
DIST     := dist
# Everything that goes into the bytes is pinned, whatever the caller's
# environment says: GOFLAGS may carry -buildvcs, -race or -mod, and the
# GOAMD64-style levels and experiments change the code. -trimpath keeps
# the checkout's and Go's own paths out; -buildid= leaves the build id
# empty; -buildvcs=false keeps out the VCS stamp (which would say
# "modified" in a dirty tree; VERSION and COMMIT say what is needed).
RELEASE_ENV   := CGO_ENABLED=0 GOOS=linux GOFLAGS= GOEXPERIMENT= GOFIPS140=off \
                 GOAMD64=v1 GOARM64=v8.0 GOPPC64=power8 LC_ALL=C TZ=UTC
RELEASE_FLAGS := -trimpath -buildvcs=false -ldflags '$(LDFLAGS) -buildid='
# The image: make image builds Containerfile.release for every ARCH into
# the manifest list $(IMAGE):$(VERSION), with plain podman, so that the
# caller's CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
# CONTAINERS_REGISTRIES_CONF say where it goes.
PODMAN   ?= podman
IMAGE    ?= nonroot-init

.PHONY: all build release image version test unit cross bench demo lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/nonroot-init

# release writes $(DIST)/nonroot-init-linux-ARCH for every ARCH and
# $(DIST)/SHA256SUMS, which `cd $(DIST) && sha256sum -c SHA256SUMS`
# checks. The same commit gives the same bytes in any directory, at any
# time.
release:
	rm -rf $(DIST)
	mkdir -p $(DIST)
	set -e; for arch in $(ARCHES); do \
	  echo "build $(DIST)/nonroot-init-linux-$$arch ($(VERSION))"; \
	  env $(RELEASE_ENV) GOARCH=$$arch $(GO) build $(RELEASE_FLAGS) -o $(DIST)/nonroot-init-linux-$$arch ./cmd/nonroot-init; \
	  chmod 0755 $(DIST)/nonroot-init-linux-$$arch; \
	done
	cd $(DIST) && LC_ALL=C sha256sum nonroot-init-linux-* > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

# image builds, offline, the FROM scratch image of each ARCH holding only
# /nonroot-init, joined in the manifest list $(IMAGE):$(VERSION). A list
# of that name is replaced. The images' timestamps are the epoch, so the
# same dist/ gives the same image digests.
image: release
	-$(PODMAN) manifest rm $(IMAGE):$(VERSION) >/dev/null 2>&1
	set -e; for arch in $(ARCHES); do \
	  $(PODMAN) build --pull=never --layers=false --timestamp 0 --identity-label=false \
	    --platform linux/$$arch --build-arg TARGETARCH=$$arch \
	    --label org.opencontainers.image.version=$(VERSION) \
	    --label org.opencontainers.image.revision=$(COMMIT) \
	    --manifest $(IMAGE):$(VERSION) -f Containerfile.release $(DIST); \
	done

# version prints the VERSION make release stamps.
version:
	@echo $(VERSION)

# test runs every unit, integration and end-to-end test, and the fuzz
# seed corpora, and the unit tests of every foreign architecture (cross).
test: lint build cross
	$(GO) test $(TESTFLAGS) ./...

# cross runs the unit tests of ./internal/... and ./cmd/... for each
# foreign ARCH under qemu user emulation (Debian: qemu-user-static) and
# prints how long each took; see README, Architectures. No -race: it needs
# cgo, which a cross build has not. The PID-1 tests of the foreign inits
# are test/cross_test.go, run natively by `go test ./...` above.
CROSS_ARCHES := arm64 ppc64le s390x
qemu_arm64   := qemu-aarch64-static
qemu_ppc64le := qemu-ppc64le-static
qemu_s390x   := qemu-s390x-static

cross: $(addprefix cross-,$(CROSS_ARCHES))

# A package whose tests fail or hang (-timeout 5m; under qemu the
# slowest takes about 45 s) is run once more, and says so: qemu 7.2 can
# leave a forked child stuck before its exec (README, Architectures). A
# second failure fails the target.
cross-%:
	@command -v $(qemu_$*) >/dev/null || { echo "cross-$*: $(qemu_$*) not found: apt-get install qemu-user-static"; exit 1; }
	@start=$$(date +%s); out=$$(mktemp); \
	GOARCH=$* $(GO) test -count=1 -timeout 5m -exec $(qemu_$*) ./internal/... ./cmd/... > $$out 2>&1; rc=$$?; cat $$out; \
	if [ $$rc != 0 ]; then \
	  again=$$(awk '$$1 == "FAIL" && $$2 ~ /\// { print $$2 }' $$out | sort -u); rm -f $$out; \
	  [ -n "$$again" ] || exit 1; \
	  echo "cross-$*: failed under $(qemu_$*): $$again; running them once more (qemu's fork hang, see README, Architectures)"; \
	  GOARCH=$* $(GO) test -count=1 -timeout 5m -exec $(qemu_$*) $$again || exit 1; \
	fi; rm -f $$out; \
	echo "cross-$*: unit tests passed under $(qemu_$*) in $$(( $$(date +%s) - start ))s"

# unit runs only the fast tests that need neither root nor tools.
unit:
	$(GO) test -count=1 -short ./internal/... ./cmd/...

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m ./test/bench/

demo: build
	./test/demo.sh $(BIN)

lint:
	@out=$$(gofmt -l cmd internal test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin $(DIST)
