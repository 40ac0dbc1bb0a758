# grantflow — see README.md. Every target works on a fresh machine once
# PostgreSQL runs (.ci/run shows how CI gets there).
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/grantflow?sslmode=disable

.PHONY: build run test test-short lint bench clean

build:
	$(GO) build -o bin/grantflow ./cmd/grantflow

# Build, create and migrate the database, seed the demo when the database is
# empty (printing the logins either way), then serve on GRANTFLOW_ADDR.
run: build
	./bin/grantflow migrate
	./bin/grantflow demo
	./bin/grantflow serve

# The whole suite against the real PostgreSQL; each test clones its own database.
test:
	$(GO) test -race -count=1 -timeout 14m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Load and throughput figures as ratios against baselines measured in the same run.
bench: build
	$(GO) build -o bin/bench ./cmd/bench
	./bin/bench

clean:
	rm -rf bin
