# nonroot-init: build, test, benchmark and demo.
GO       ?= go
BIN      := bin/nonroot-init
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Tests run one package at a time: the integration tests start many
# processes and namespaces, and the machine has two cores.
TESTFLAGS ?= -race -count=1 -p 1 -timeout 40m

.PHONY: all build test unit bench demo lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/nonroot-init

# test runs every unit, integration and end-to-end test, and the fuzz
# seed corpora.
test: lint build
	$(GO) test $(TESTFLAGS) ./...

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
