# xtunnel: `make` lists the targets. Everything runs as root (sudo make demo);
# `make deps` installs what is missing with apt-get.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := /usr/local/go/bin:$(PATH)

GO           ?= go
CLANG_FORMAT ?= clang-format-19
APT_PACKAGES := clang-19 llvm-19 libbpf-dev bpftool iperf3 iproute2 iputils-ping ethtool tcpdump tshark clang-format-19
C_SOURCES     = $(wildcard bpf/*.c headers/*.h)

.DEFAULT_GOAL := help
.PHONY: help deps generate check-generated build test demo bench lint clean

help: ## list the targets
	@echo "usage: make TARGET (as root for deps, test and demo)"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install missing Debian packages (apt-get) and download Go modules
	@command -v $(GO) >/dev/null || { echo "make deps: Go not found (looked in PATH and /usr/local/go/bin)" >&2; exit 1; }
	@command -v dpkg-query >/dev/null || { echo "make deps: needs Debian/Ubuntu (dpkg, apt-get); install by hand: $(APT_PACKAGES)" >&2; exit 1; }
	@missing=""; \
	for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: missing packages:$$missing; run as root: make deps" >&2; exit 1; fi; \
		echo "make deps: installing$$missing"; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(GO) mod download

generate: deps ## rebuild loader/*_bpfel.{go,o} from bpf/ and headers/ (bpf2go, clang-19)
	$(GO) generate ./...

# The committed bpf2go output must be what the sources produce.
check-generated: generate
	@if command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git diff --exit-code --stat -- loader/ || { echo "make generate changed loader/: the committed *_bpfel files do not match bpf/ and headers/; commit the regenerated files" >&2; exit 1; }; \
		echo "loader/ matches its sources"; \
	else \
		echo "not a git checkout: skipping the check that loader/ matches its sources"; \
	fi

build: ## build bin/xtunnel and bin/xtunnel-lab
	$(GO) build -o bin/xtunnel ./cmd/xtunnel
	$(GO) build -o bin/xtunnel-lab ./cmd/xtunnel-lab

test: deps check-generated lint ## deps, loader/ up to date, go vet, every test (end-to-end ones need root)
	$(GO) vet ./...
	@rc=0; \
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '/test$$') || rc=1; \
	echo "end-to-end tests (test/):"; \
	$(GO) test -count=1 -v -timeout 45m ./test/ || rc=1; \
	exit $$rc

demo: deps build ## build, then run every tunnel type in a namespace lab and print one table (root)
	./bin/xtunnel-lab --xtunnel ./bin/xtunnel

bench: ## measure (root, ~2 min): one table; bench-results.json and bench-results.png
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 10m ./bench/

lint: ## gofmt, go vet, clang-format (kernel style, .clang-format) on bpf/ and headers/
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) vet ./...
	@if [ -n "$(C_SOURCES)" ]; then $(CLANG_FORMAT) --dry-run --Werror $(C_SOURCES) && echo "clang-format: ok"; fi

clean: ## remove build output
	rm -rf bin
