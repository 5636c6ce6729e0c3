# zeebe-lambda-bridge
#
#   make demo   start local Zeebe + LocalStack, terraform apply the bridge to LocalStack, run the trip booking both ways
#   make test   lint, the infrastructure scan, unit, integration and end-to-end tests (starts what it needs, applies and destroys)
#
# Everything downloaded is cached under .local/ (git-ignored).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
# BRIDGE_LOCAL_DIR and STACK_PORT_OFFSET run a second stack beside the first
# (localstack/stack reads both); the addresses below follow them.
LOCAL       := $(abspath $(or $(BRIDGE_LOCAL_DIR),$(CURDIR)/.local))
STACK_PORT_OFFSET ?= 0
export BRIDGE_LOCAL_DIR := $(LOCAL)
export STACK_PORT_OFFSET
GOBIN       := $(LOCAL)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
# Terraform and tflint are built from the Go module proxy (no other download
# is reachable here) and cached in .local/bin by version.
TERRAFORM_VERSION := v1.5.7
TFLINT_VERSION    := v0.64.0
# A terraform already on the PATH is used when it is 1.5.x: the modules ask
# for >= 1.5, and 1.5 is the last line under an open-source licence (MPL 2.0;
# 1.6 and later are BUSL). Otherwise the pinned build is made once.
TERRAFORM_ON_PATH := $(shell v=$$(terraform version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' 2>/dev/null); case "$$v" in (1.5.*) command -v terraform;; esac)
TERRAFORM   := $(or $(TERRAFORM_ON_PATH),$(GOBIN)/terraform-$(TERRAFORM_VERSION))
TFLINT      := $(GOBIN)/tflint-$(TFLINT_VERSION)
# Terraform roots and modules that make lint checks.
TF_DIRS     := terraform localstack/terraform
# localstack/tfstack runs this Terraform.
export TF_BINARY := $(TERRAFORM)
# Providers are installed once into the plugin cache and linked from there.
export TF_PLUGIN_CACHE_DIR := $(LOCAL)/terraform/plugin-cache

# Where the AWS provider comes from, first match: TF_PLUGIN_MIRROR (a
# `terraform providers mirror` directory); the CLI configuration
# TF_CLI_CONFIG_FILE already names, if that file exists; the mirror at
# /opt/tf-plugins, where a machine has one; the public registry.
TF_DEFAULT_MIRROR := /opt/tf-plugins
TF_USER_CLI_CONFIG := $(if $(TF_CLI_CONFIG_FILE),$(wildcard $(TF_CLI_CONFIG_FILE)))
TF_MIRROR := $(or $(TF_PLUGIN_MIRROR),$(if $(TF_USER_CLI_CONFIG),,$(if $(wildcard $(TF_DEFAULT_MIRROR)/registry.terraform.io/hashicorp/aws),$(TF_DEFAULT_MIRROR))))
ifneq ($(TF_MIRROR),)
export TF_CLI_CONFIG_FILE := $(LOCAL)/terraform/cli.tfrc
TF_PROVIDER_FROM := the filesystem mirror $(TF_MIRROR) (CLI configuration $(TF_CLI_CONFIG_FILE))
else ifneq ($(TF_USER_CLI_CONFIG),)
TF_PROVIDER_FROM := wherever your CLI configuration $(TF_USER_CLI_CONFIG) says
else
TF_PROVIDER_FROM := registry.terraform.io (no mirror found; set TF_PLUGIN_MIRROR to use one)
endif
STACK       := localstack/stack
# Tests that need the local Zeebe engine and LocalStack running carry these build tags.
E2E_TAGS    := integration e2e
TEST_FLAGS  ?=

ZEEBE_PORT      := $(shell echo $$((26500 + $(STACK_PORT_OFFSET))))
LOCALSTACK_PORT := $(shell echo $$((4566 + $(STACK_PORT_OFFSET))))
VIEW_PORT       := $(shell echo $$((8088 + $(STACK_PORT_OFFSET))))
export ZEEBE_ADDRESS ?= 127.0.0.1:$(ZEEBE_PORT)
export ZEEBE_INSECURE_CONNECTION ?= true
export AWS_ENDPOINT_URL ?= http://127.0.0.1:$(LOCALSTACK_PORT)
export AWS_REGION ?= us-east-1
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export ZEEBE_RECORD_LOG ?= $(LOCAL)/logs/zeebe-records.jsonl
# The local process view, which the engine serves (localzeebe/processview).
export PROCESS_VIEW_URL ?= http://127.0.0.1:$(VIEW_PORT)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

.PHONY: prereqs
prereqs:
	@command -v $(GO) >/dev/null || { echo "error: go not found: install Go 1.26 or newer (https://go.dev/dl)"; exit 1; }

.PHONY: deps
deps: prereqs ## download Go modules and tools
	$(GO) mod download
	@test -x $(STATICCHECK) || { echo "installing staticcheck $(STATICCHECK_VERSION) into $(GOBIN)"; GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

# Lambda zips: one per function, a `bootstrap` inside (runtime provided.al2023),
# reproducible (localstack/lambdazip), so an unchanged function is not updated.
# amd64 is Lambda's x86_64, the modules' default architecture; localstack/tfstack
# tells Terraform which one was built.
export GOARCH_LAMBDA ?= amd64
DIST        := $(CURDIR)/dist
# Every main is <home>/<name>/main.go and builds <name>.zip: the example
# Lambdas are functions/<name>, the bridge's own are cmd/zeebe-<part>.
FUNCTIONS   := $(shell for d in functions/*/; do test -f $$d/main.go && basename $$d; done)
# Python and Node.js example functions: their source, zipped as it is.
SCRIPT_FUNCTIONS := $(shell for d in functions/*/; do test -f $$d/main.go || basename $$d; done)
BRIDGE_LAMBDAS := zeebe-poller zeebe-fulfiller zeebe-returner zeebe-callback
# Lambda layers: <name>.zip holds the binary <name>, which lands in /opt/<name>.
BRIDGE_LAYERS  := zeebe-runtime-proxy

.PHONY: build
build: prereqs ## build dist/<function>.zip for every Lambda (GOARCH_LAMBDA=arm64 for Graviton)
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@GO=$(GO) LAMBDAZIP_CACHE=$(LOCAL)/lambda-build/$(GOARCH_LAMBDA) localstack/lambdazip -d $(DIST) \
	  $(addprefix ./functions/,$(FUNCTIONS) $(SCRIPT_FUNCTIONS)) $(addprefix ./cmd/,$(BRIDGE_LAMBDAS)) \
	  $(foreach l,$(BRIDGE_LAYERS),./cmd/$(l)=$(l))
	@echo "built $$(ls $(DIST)/*.zip | wc -l) Lambda zips (the layers $(BRIDGE_LAYERS) among them) for linux/$(GOARCH_LAMBDA) in $(DIST)"

# Without the parts that need a cloud SDK: localstack/terraform-build/build says why.
$(TERRAFORM):
	@echo "building terraform $(TERRAFORM_VERSION) from the Go module proxy (about a minute alone, once)"
	@mkdir -p $(GOBIN) && GO=$(GO) localstack/terraform-build/build $(TERRAFORM_VERSION) $@

$(TFLINT):
	@echo "building tflint $(TFLINT_VERSION) from the Go module proxy (a few minutes, once)"
	@mkdir -p $(GOBIN)/.build && GOBIN=$(GOBIN)/.build $(GO) install github.com/terraform-linters/tflint@$(TFLINT_VERSION) && mv $(GOBIN)/.build/tflint $@

.PHONY: tools
tools: $(TERRAFORM) $(TFLINT) ## build terraform and tflint into .local/bin

# Terraform refuses to start when TF_PLUGIN_CACHE_DIR does not exist.
$(TF_PLUGIN_CACHE_DIR):
	@mkdir -p $@

.PHONY: terraform-provider
terraform-provider: $(TERRAFORM) | $(TF_PLUGIN_CACHE_DIR) ## say where the AWS provider comes from; write the CLI configuration for a mirror
	@if [ -n "$(TF_MIRROR)" ]; then \
	  test -d "$(TF_MIRROR)/registry.terraform.io/hashicorp/aws" || { echo "error: $(TF_MIRROR) has no registry.terraform.io/hashicorp/aws: set TF_PLUGIN_MIRROR to a directory made with \`terraform providers mirror\`"; exit 1; }; \
	  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' "$(TF_MIRROR)" >$(TF_CLI_CONFIG_FILE); \
	fi
	@echo "terraform: the AWS provider comes from $(TF_PROVIDER_FROM)"

.PHONY: lint-terraform
lint-terraform: $(TFLINT) terraform-provider ## terraform fmt -check and tflint (bundled terraform ruleset, all rules)
	$(TERRAFORM) fmt -check -recursive -diff terraform
	$(TERRAFORM) fmt -check -recursive -diff localstack/terraform
	@for d in $(TF_DIRS); do (cd $$d && $(TFLINT) --recursive --config "$(CURDIR)/terraform/.tflint.hcl") || exit 1; done

.PHONY: lint
lint: deps lint-terraform ## gofmt, go vet, staticcheck, terraform fmt, tflint
	@out=$$(find . -path ./.local -prune -o -path ./dist -prune -o -name '*.go' -print | xargs gofmt -l); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags '$(E2E_TAGS)' ./...
	$(STATICCHECK) -tags '$(E2E_TAGS)' ./...

# checkov, pinned in terraform/checkov, in its own venv under .local; every
# check it makes is passed or suppressed in the resource with a reason.
.PHONY: scan
scan: ## infrastructure scan: checkov on terraform/ (the modules and the example); fails naming each unanswered check
	@terraform/checkov/scan

.PHONY: unit
unit: prereqs ## unit tests only (no Zeebe, no LocalStack)
	$(GO) test -race -count=1 $(TEST_FLAGS) ./...

.PHONY: test-plugin
test-plugin: ## the executor plugin's Python tests, in LocalStack's venv (which `make up` builds)
	@test -x $(LOCAL)/localstack-venv/bin/python || { echo "error: no LocalStack venv in $(LOCAL)/localstack-venv: run make up first"; exit 1; }
	PYTHONPATH=localstack/plugin PYTHONDONTWRITEBYTECODE=1 $(LOCAL)/localstack-venv/bin/python -m unittest discover -s localstack/plugin/tests -v

.PHONY: up
up: ## install (first time) and start Zeebe and LocalStack; the process view is then at $PROCESS_VIEW_URL
	$(STACK) up

.PHONY: stack-install
stack-install: ## build and install what `make up` starts (the engine, LocalStack, the local runtimes), side by side, starting nothing
	@$(STACK) install

.PHONY: down
down: ## stop what `make up` started
	$(STACK) down

.PHONY: view-deps
view-deps: ## install bpmn-js (the process view's renderer) into .local and Chromium (its tests) if missing
	localstack/viewdeps all

.PHONY: test
test: lint scan build terraform-provider view-deps ## everything: unit, integration (local engine), end to end (terraform apply to LocalStack, scenarios, destroy)
	@was_up=0; $(STACK) status >/dev/null 2>&1 && was_up=1; \
	  $(STACK) up; \
	  rc=0; $(MAKE) --no-print-directory test-plugin || rc=$$?; \
	  $(GO) test -race -count=1 -timeout 30m -tags '$(E2E_TAGS)' $(TEST_FLAGS) $$($(GO) list -tags '$(E2E_TAGS)' ./... | grep -v /localstack/e2e$$) || rc=$$?; \
	  echo "end to end (alone: it kills and restarts the engine the integration tests share)"; \
	  $(GO) test -race -count=1 -timeout 30m -tags '$(E2E_TAGS)' $(TEST_FLAGS) ./localstack/e2e/ || rc=$$?; \
	  if [ $$was_up = 0 ]; then $(STACK) down; fi; \
	  if [ $$rc != 0 ]; then echo "tests failed; service logs: $$($(STACK) logs | tr '\n' ' ')"; fi; \
	  exit $$rc

SOAK_INSTANCES ?= 50
SOAK_TURNS     ?= 200
.PHONY: soak
soak: build terraform-provider ## the long echo-loop soak under injected faults (SOAK_INSTANCES x SOAK_TURNS, default 50 x 200); report in .local/soak/
	@was_up=0; $(STACK) status >/dev/null 2>&1 && was_up=1; \
	  $(STACK) up; \
	  rc=0; SOAK_INSTANCES=$(SOAK_INSTANCES) SOAK_TURNS=$(SOAK_TURNS) SOAK_REPORT_DIR=$(LOCAL)/soak E2E_TRACING=off \
	    $(GO) test -count=1 -timeout 180m -tags '$(E2E_TAGS)' -run '^TestSoak$$' -v ./localstack/e2e/ || rc=$$?; \
	  if [ $$was_up = 0 ]; then $(STACK) down; fi; \
	  exit $$rc

BENCH_SIZES ?= 1x20,20x200,200x600
BENCH_RUNTIME_SIZE ?= 20x100
.PHONY: bench
bench: build terraform-provider ## the bridge beside a direct Go worker and a sync-Invoke peer at N = 1, 20, 200 (BENCH_SIZES), and noop in Go, Python, Node.js (BENCH_RUNTIME_SIZE); report and chart in .local/bench/
	@was_up=0; $(STACK) status >/dev/null 2>&1 && was_up=1; \
	  $(STACK) up; \
	  rc=0; BENCH_SIZES=$(BENCH_SIZES) BENCH_RUNTIME_SIZE=$(BENCH_RUNTIME_SIZE) BENCH_REPORT_DIR=$(LOCAL)/bench E2E_FUNCTIONS=noop,noop-py,noop-node E2E_TRACING=off \
	    $(GO) test -count=1 -timeout 30m -tags '$(E2E_TAGS)' -run '^TestBench$$' -v ./localstack/e2e/ || rc=$$?; \
	  if [ $$was_up = 0 ]; then $(STACK) down; fi; \
	  exit $$rc

# The engine's speed against an earlier commit: 8beef49 is the engine before
# the elements, clients and REST API of issue 22 were added.
BENCH_BASE ?= 8beef49
.PHONY: bench-engine
bench-engine: prereqs ## the engine's ActivateComplete benchmark at BENCH_BASE and in the working tree, run in turns, compared by benchstat (ratios in .local/bench-engine)
	@BENCH_ENGINE_DIR=$(LOCAL)/bench-engine GO=$(GO) localzeebe/bench-against $(BENCH_BASE)

# ZEEBE_ADDRESS given on the command line or in the environment points the
# conformance suite at that gateway (ZEEBE_CONFORMANCE_ADDRESS); without it the
# suite starts a local engine in-process.
CONFORMANCE_ADDRESS = $(if $(filter environment command,$(origin ZEEBE_ADDRESS)),$(ZEEBE_ADDRESS))

.PHONY: test-zeebe-conformance
test-zeebe-conformance: prereqs ## run the engine conformance suite against ZEEBE_ADDRESS (default: the local engine)
	@echo "conformance suite against $(or $(CONFORMANCE_ADDRESS),a local engine started in-process)"
	@echo "note: the checks that need the record log run only against the local engine (skipped against ZEEBE_ADDRESS)"
	ZEEBE_ADDRESS=$(ZEEBE_ADDRESS) ZEEBE_CONFORMANCE_ADDRESS=$(CONFORMANCE_ADDRESS) $(GO) test -count=1 -tags conformance ./localzeebe/conformance/... -v

.PHONY: demo
# On a fresh machine the work is split by what the apply needs. The Go
# builds (the zips, cmd/demo), Terraform's build and LocalStack's venv run
# side by side, and the apply starts when they are done; the engine builds
# during the apply, which mostly waits on the AWS provider. The local runtimes
# (the Node.js one compiles its native client) and bpmn-js install meanwhile
# at the lowest priority, on the CPU the builds and the apply's waits leave,
# and the engine starts once they are in. A second run finds it all in place.
# The background jobs are process groups of their own (set -m, so the EXIT
# trap can stop them) in make's session: under Linux's autogroup scheduling a new
# session (setsid) gets its own half of the CPU, whatever its nice value.
demo: prereqs ## start the local stack, terraform apply the bridge to LocalStack, run the trip booking both ways and the long work
	@mkdir -p $(LOCAL)/logs; log=$(LOCAL)/logs/demo-background.log; \
	  echo "[demo] the local Lambda runtimes and bpmn-js install in the background, at low priority (log: $$log)"; \
	  set -m; nice -n 19 $(STACK) install runtimes view >$$log 2>&1 & bg=$$!; set +m; eng=; \
	  trap 'kill -- -$$bg $${eng:+-$$eng} 2>/dev/null || true' EXIT; \
	  $(MAKE) --no-print-directory -j3 go-binaries terraform-provider stack-install-localstack; \
	  set -m; $(STACK) install engine & eng=$$!; set +m; \
	  $(STACK) up localstack; \
	  $(LOCAL)/bin/demo -apply-only -dist $(DIST); \
	  wait $$eng || { echo "make demo: the local engine's build failed (above)"; exit 1; }; \
	  echo "[demo] waiting for the background installs (log: $$log)"; \
	  wait $$bg || { echo "make demo: the background installs failed; the end of $$log:"; tail -n 25 $$log; exit 1; }; \
	  trap - EXIT; \
	  $(STACK) up zeebe; \
	  $(LOCAL)/bin/demo -applied -dist $(DIST) -view $(PROCESS_VIEW_URL)

# The zips and cmd/demo one after the other, with localstack/gobuild's flags:
# the packages they share compile once. The engine, built with the same
# flags, is not needed for the apply: make demo builds it meanwhile.
.PHONY: go-binaries
go-binaries: build
	@mkdir -p $(LOCAL)/bin && GO=$(GO) localstack/gobuild -o $(LOCAL)/bin/demo ./cmd/demo

.PHONY: stack-install-localstack
stack-install-localstack:
	@$(STACK) install localstack
