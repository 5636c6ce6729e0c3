# zeebe-lambda-bridge
#
#   make demo   start local Zeebe + LocalStack, deploy into LocalStack's Lambda, run the trip booking both ways
#   make test   lint, unit, integration and end-to-end tests (starts what it needs)
#
# Everything downloaded is cached under .local/ (git-ignored).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
LOCAL       := $(CURDIR)/.local
GOBIN       := $(LOCAL)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
# Terraform and tflint are built from the Go module proxy (no other download
# is reachable here) and cached in .local/bin by version.
TERRAFORM_VERSION := v1.5.7
TFLINT_VERSION    := v0.64.0
TERRAFORM   := $(GOBIN)/terraform-$(TERRAFORM_VERSION)
TFLINT      := $(GOBIN)/tflint-$(TFLINT_VERSION)
STACK       := localstack/stack
# Tests that need the local Zeebe engine and LocalStack running carry these build tags.
E2E_TAGS    := integration e2e
TEST_FLAGS  ?=

export ZEEBE_ADDRESS ?= 127.0.0.1:26500
export ZEEBE_INSECURE_CONNECTION ?= true
export AWS_ENDPOINT_URL ?= http://127.0.0.1:4566
export AWS_REGION ?= us-east-1
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export ZEEBE_RECORD_LOG ?= $(LOCAL)/logs/zeebe-records.jsonl

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

.PHONY: prereqs
prereqs:
	@command -v $(GO) >/dev/null || { echo "error: go not found: install Go 1.22 or newer (https://go.dev/dl)"; exit 1; }

.PHONY: deps
deps: prereqs ## download Go modules and tools
	$(GO) mod download
	@test -x $(STATICCHECK) || { echo "installing staticcheck $(STATICCHECK_VERSION) into $(GOBIN)"; GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

# Lambda zips: one per function, a `bootstrap` inside (runtime provided.al2023).
GOARCH_LAMBDA ?= amd64
DIST        := $(CURDIR)/dist
FUNCTIONS   := $(shell for d in functions/*/; do test -f $$d/main.go && basename $$d; done)

.PHONY: build
build: prereqs ## build dist/<function>.zip for every Lambda (GOARCH_LAMBDA=arm64 for Graviton)
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@for fn in $(FUNCTIONS) zeebe-poller zeebe-fulfiller; do \
	  case $$fn in zeebe-poller) pkg=./poller/cmd/poller-lambda;; zeebe-fulfiller) pkg=./fulfiller/cmd/fulfiller-lambda;; *) pkg=./functions/$$fn;; esac; \
	  mkdir -p $(DIST)/$$fn; \
	  GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(DIST)/$$fn/bootstrap $$pkg; \
	  (cd $(DIST)/$$fn && python3 -m zipfile -c ../$$fn.zip bootstrap); \
	done
	@echo "built $$(ls $(DIST)/*.zip | wc -l) Lambda zips for linux/$(GOARCH_LAMBDA) in $(DIST)"

$(TERRAFORM):
	@echo "building terraform $(TERRAFORM_VERSION) from the Go module proxy (a few minutes, once)"
	@mkdir -p $(GOBIN)/.build && GOBIN=$(GOBIN)/.build $(GO) install github.com/hashicorp/terraform@$(TERRAFORM_VERSION) && mv $(GOBIN)/.build/terraform $@

$(TFLINT):
	@echo "building tflint $(TFLINT_VERSION) from the Go module proxy (a few minutes, once)"
	@mkdir -p $(GOBIN)/.build && GOBIN=$(GOBIN)/.build $(GO) install github.com/terraform-linters/tflint@$(TFLINT_VERSION) && mv $(GOBIN)/.build/tflint $@

.PHONY: tools
tools: $(TERRAFORM) $(TFLINT) ## build terraform and tflint into .local/bin

.PHONY: lint-terraform
lint-terraform: $(TERRAFORM) $(TFLINT) ## terraform fmt -check and tflint (bundled terraform ruleset, all rules)
	$(TERRAFORM) fmt -check -recursive -diff terraform
	cd terraform && $(TFLINT) --recursive --config "$(CURDIR)/terraform/.tflint.hcl"

.PHONY: lint
lint: deps lint-terraform ## gofmt, go vet, staticcheck, terraform fmt, tflint
	@out=$$(find . -path ./.local -prune -o -path ./dist -prune -o -name '*.go' -print | xargs gofmt -l); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags '$(E2E_TAGS)' ./...
	$(STATICCHECK) -tags '$(E2E_TAGS)' ./...

.PHONY: unit
unit: prereqs ## unit tests only (no Zeebe, no LocalStack)
	$(GO) test -race -count=1 $(TEST_FLAGS) ./...

.PHONY: up
up: ## install (first time) and start Zeebe and LocalStack
	$(STACK) up

.PHONY: down
down: ## stop what `make up` started
	$(STACK) down

.PHONY: test
test: lint build ## everything: unit, integration (local Zeebe engine) and end-to-end (engine + LocalStack)
	@was_up=0; $(STACK) status >/dev/null 2>&1 && was_up=1; \
	  $(STACK) up; \
	  rc=0; $(GO) test -race -count=1 -timeout 30m -tags '$(E2E_TAGS)' $(TEST_FLAGS) ./... || rc=$$?; \
	  if [ $$was_up = 0 ]; then $(STACK) down; fi; \
	  if [ $$rc != 0 ]; then echo "tests failed; service logs: $$($(STACK) logs | tr '\n' ' ')"; fi; \
	  echo "note: the Terraform apply/destroy test against LocalStack is not part of make test; run it with: make test-terraform"; \
	  exit $$rc

# ZEEBE_ADDRESS given on the command line or in the environment points the
# conformance suite at that gateway (ZEEBE_CONFORMANCE_ADDRESS); without it the
# suite starts a local engine in-process.
CONFORMANCE_ADDRESS = $(if $(filter environment command,$(origin ZEEBE_ADDRESS)),$(ZEEBE_ADDRESS))

.PHONY: test-zeebe-conformance
test-zeebe-conformance: prereqs ## run the engine conformance suite against ZEEBE_ADDRESS (default: the local engine)
	@echo "conformance suite against $(or $(CONFORMANCE_ADDRESS),a local engine started in-process)"
	@echo "note: the checks that need the record log run only against the local engine (skipped against ZEEBE_ADDRESS)"
	ZEEBE_ADDRESS=$(ZEEBE_ADDRESS) ZEEBE_CONFORMANCE_ADDRESS=$(CONFORMANCE_ADDRESS) $(GO) test -count=1 -tags conformance ./localzeebe/conformance/... -v

.PHONY: test-terraform
test-terraform: build $(TERRAFORM) ## terraform init/apply/trip booking/destroy of terraform/examples/trip-booking on a fresh LocalStack
	$(STACK) reset
	TF_BINARY=$(TERRAFORM) DIST=$(DIST) $(GO) test -count=1 -timeout 20m -tags terraform -run TestTerraform -v ./terraform/

.PHONY: demo
demo: build ## start the local stack, deploy the bridge into LocalStack's Lambda, run the trip booking both ways
	$(STACK) up
	$(GO) run ./cmd/demo -dist $(DIST)
