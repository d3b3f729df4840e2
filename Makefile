# switchboard developer entry points. See scripts/*.sh for details.

SHELL := /bin/bash
BIN   := .cache/bin/switchboard

.PHONY: help run test setup build bench bench-asr bench-ivr bench-logparse models retrain es es-stop clean
.DEFAULT_GOAL := help

help: ## show this help
	@echo "make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'
	@echo "extra server args: make run ARGS='--flag value'   extra go test flags: make test GOTESTFLAGS=-run=TestX"

run: ## set up, start the dev Elasticsearch (:9200) and run the server
	@bash scripts/run.sh $(if $(ARGS),-- $(ARGS))

test: ## go vet + go test (+ pytest) against a throwaway Elasticsearch
	@bash scripts/test.sh

setup: ## install Debian packages, download Elasticsearch and ONNX Runtime, build
	@bash scripts/setup.sh

build: ## go build ./... and $(BIN)
	@source scripts/lib.sh && go_env_setup && set -x && \
	  go build ./... && go build -o $(BIN) ./cmd/switchboard

bench: ## run scripts/bench.sh (if present)
	@if [ -f scripts/bench.sh ]; then bash scripts/bench.sh; else echo "scripts/bench.sh does not exist yet; nothing to benchmark"; fi

bench-asr: ## speech benchmarks: CER/WER, intents and digits from audio, RTF, latency (scripts/asr-bench.sh)
	@bash scripts/asr-bench.sh

bench-logparse: ## log-template miner on LogHub-2k: grouping and parsing accuracy (scripts/logparse-bench.sh)
	@bash scripts/logparse-bench.sh

bench-ivr: ## voice IVR under SIPp load: concurrent calls, CPU per call, turn latency, call setup rate (scripts/ivr-bench.sh)
	@bash scripts/ivr-bench.sh

models: ## rebuild the shipped NLU models from scratch (generator -> train -> ONNX -> promote)
	@bash scripts/models.sh

retrain: ## monthly retraining from labelled tickets in the local Elasticsearch (DEMO=1 seeds demo data)
	@bash scripts/retrain.sh

es: ## run only the dev Elasticsearch until Ctrl-C
	@bash scripts/es-dev.sh

es-stop: ## stop a dev Elasticsearch left running by our scripts
	@bash scripts/es-dev.sh stop

clean: ## remove built binaries (.cache/bin); downloads and .data are kept
	rm -rf .cache/bin
