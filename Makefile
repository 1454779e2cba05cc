# Doorbuster. `make run` is the main job; `make test` is what CI runs.
GO        ?= go
BIN       := bin/doorbuster
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: build test run bench fmt vet clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/doorbuster

# No registry here: testcontainers' reaper image cannot be pulled, so the tests run without
# it and remove their own containers, networks, volumes and images.
test: export TESTCONTAINERS_RYUK_DISABLED = true
test:
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

run: build
	$(BIN) run scenarios/smoke.yaml

# Certification (certify/): the pilot suite (under 10 minutes) or every case (under an
# hour) on the embedded reference connector; the certificate goes to certificates/.
.PHONY: certify certify-full
certify: build
	$(BIN) certify --suite pilot

certify-full: build
	$(BIN) certify --suite full

# The bug-switch detection matrix (harness/matrix_test.go, scenarios/matrix/): every bug
# switch of the reference connector caught by its invariant and the clean connector
# green, on seeds 1-5. `make test` runs a reduced form of it.
.PHONY: certify-matrix
certify-matrix:
	DOORBUSTER_MATRIX=full $(GO) test -count=1 -run 'TestBugMatrix' -timeout 30m -v ./harness/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin runs certificates

# --- Containers (compose/): the Doorbuster image and the docker-compose stack ---------
# The image is built FROM scratch from a static binary compiled here: no registry pull.
IMAGE        ?= doorbuster:dev
IMAGE_CTX    := bin/image-context
# Compose v2 plugin ("docker compose") if present, else the v1 tool ("docker-compose").
COMPOSE      ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; fi)
COMPOSE_ARGS := -p doorbuster -f compose/docker-compose.yml

.PHONY: images compose-up compose-down

images:
	rm -rf $(IMAGE_CTX) && mkdir -p $(IMAGE_CTX)/data $(IMAGE_CTX)/tmp && chmod 1777 $(IMAGE_CTX)/tmp
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(IMAGE_CTX)/doorbuster ./cmd/doorbuster
	docker build -q -f compose/Dockerfile \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) \
		-t $(IMAGE) -t doorbuster:$(VERSION) $(IMAGE_CTX)
	@docker image ls $(IMAGE) --format 'image {{.Repository}}:{{.Tag}} (also doorbuster:$(VERSION)): {{.Size}}'

# Up in the background, then wait (at most 60 s) until every service is healthy.
compose-up: images
	@test -n "$(COMPOSE)" || { echo "neither 'docker compose' nor 'docker-compose' is installed" >&2; exit 2; }
	DOORBUSTER_IMAGE=$(IMAGE) $(COMPOSE) $(COMPOSE_ARGS) up -d
	@ids=$$($(COMPOSE) $(COMPOSE_ARGS) ps -q); st=""; \
	for i in $$(seq 1 120); do \
		st=$$(docker inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' $$ids); \
		if ! echo "$$st" | grep -qv ' healthy$$'; then \
			echo "$$st"; \
			echo "NetSuite  http://127.0.0.1:$${DOORBUSTER_NETSUITE_PORT:-8701}"; \
			echo "gateway   http://127.0.0.1:$${DOORBUSTER_GATEWAY_PORT:-8702}"; \
			echo "connector http://127.0.0.1:$${DOORBUSTER_CONNECTOR_PORT:-8088}"; \
			exit 0; \
		fi; \
		sleep 0.5; \
	done; \
	echo "the stack did not become healthy within 60 s:" >&2; echo "$$st" >&2; \
	$(COMPOSE) $(COMPOSE_ARGS) logs --tail=20 >&2; exit 1

compose-down:
	@test -n "$(COMPOSE)" || { echo "neither 'docker compose' nor 'docker-compose' is installed" >&2; exit 2; }
	$(COMPOSE) $(COMPOSE_ARGS) down -v --remove-orphans
