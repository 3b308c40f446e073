# nonroot-init: build, test, benchmark and demo.
GO       ?= go
BIN      := bin/nonroot-init
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Tests run one package at a time: the integration tests start many
# processes and namespaces, and the machine has two cores.
TESTFLAGS ?= -race -count=1 -p 1 -timeout 40m

.PHONY: all build test unit cross bench demo lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/nonroot-init

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

cross-%:
	@command -v $(qemu_$*) >/dev/null || { echo "cross-$*: $(qemu_$*) not found: apt-get install qemu-user-static"; exit 1; }
	@start=$$(date +%s); \
	GOARCH=$* $(GO) test -count=1 -timeout 20m -exec $(qemu_$*) ./internal/... ./cmd/... || exit 1; \
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
	rm -rf bin
