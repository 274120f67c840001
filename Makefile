# Every target sets itself up on a fresh machine: PyTorch (for libtorch) and
# the test tools are installed into virtualenvs cached outside the checkout,
# keyed by version, so fresh clones and CI reuse them.

TORCH_VERSION := 2.11.0
# The tools virtualenv is keyed by its requirements, so editing them makes a new one.
TOOLS_VERSION := $(shell sha256sum tests/support/requirements.txt | cut -c1-12)
CACHE ?= $(HOME)/.cache/shopsynth
TORCH_VENV := $(CACHE)/torch-$(TORCH_VERSION)
TOOLS_VENV := $(CACHE)/tools-$(TOOLS_VERSION)
PYTHON ?= python3

# The demo reads the shared Taobao log unless DATA names another copy.
DATA ?= ../shared/datasets/taobao-userbehavior/UserBehavior.csv
DEMO_OUT ?= out/demo

export LIBTORCH := $(TORCH_VENV)/torch
export CARGO_TERM_COLOR ?= auto

BIN := target/release/shopsynth

.PHONY: build demo test bench lint torch tools packages clean

build: torch
	cargo build --release --locked
	@echo "built $(BIN)"

demo: build
	$(BIN) run jobs/taobao-behaviour.yaml --dataset "$(DATA)" --output "$(DEMO_OUT)"

test: torch tools packages
	command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
	PATH="$(TOOLS_VENV)/bin:$$PATH" SHOPSYNTH_TOOLS_PYTHON="$(TOOLS_VENV)/bin/python" \
		tests/support/with-services.sh cargo nextest run --release --locked --no-fail-fast

bench: torch
	cargo bench --locked --bench training
	cargo bench --locked --bench report

lint: torch
	cargo fmt --check
	cargo clippy --release --locked --all-targets -- -D warnings

# The torch package folder is stable across Python minor versions through a
# symlink, so LIBTORCH never depends on which python3 made the virtualenv.
torch: $(TORCH_VENV)/.complete

$(TORCH_VENV)/.complete:
	rm -rf "$(TORCH_VENV)"
	$(PYTHON) -m venv "$(TORCH_VENV)"
	"$(TORCH_VENV)/bin/pip" install --quiet --disable-pip-version-check "torch==$(TORCH_VERSION)"
	ln -sfn "$$("$(TORCH_VENV)/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')" \
		"$(TORCH_VENV)/torch"
	touch "$@"

# Debian packages the tests need: the service tests start a private
# redis-server, and the report-page test opens report.html in a headless
# Chromium. Installed when missing and this is a root shell with apt-get.
PACKAGES := redis-server chromium

packages:
	@missing=""; for p in $(PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { \
		[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null || { \
			echo "make test needs Debian's$$missing: install them" >&2; exit 1; }; \
		apt-get update -qq && apt-get install -y -qq $$missing; }

tools: $(TOOLS_VENV)/.complete

$(TOOLS_VENV)/.complete:
	rm -rf "$(TOOLS_VENV)"
	$(PYTHON) -m venv "$(TOOLS_VENV)"
	"$(TOOLS_VENV)/bin/pip" install --quiet --disable-pip-version-check \
		-r tests/support/requirements.txt
	touch "$@"

clean:
	cargo clean
	rm -rf out
