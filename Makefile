# Doorbuster. `make run` is the main job; `make test` is what CI runs.
GO        ?= go
BIN       := bin/doorbuster
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: build test run bench fmt vet clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/doorbuster

test:
	$(GO) vet ./...
	$(GO) test -race ./...

run: build
	$(BIN) run scenarios/smoke.yaml

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin runs
