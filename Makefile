# Two entry points do all set-up on a fresh Debian 12 machine:
#   make bench   -> installs what is missing, runs `bench run resnet vww aww`
#   make test    -> installs what is missing, runs the test suite
# Re-running is fast: apt is skipped when the tools are present, pip when
# pyproject.toml has not changed since the last install.
SHELL   := /bin/bash
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS := clang-14 lld-14 gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
JOBS    ?= $(shell nproc)

.PHONY: setup toolchain venv bench baseline test test-fast clean

setup: toolchain venv

toolchain:
	@if command -v clang-14 >/dev/null && command -v ld.lld-14 >/dev/null && \
	    command -v riscv64-unknown-elf-gcc >/dev/null && \
	    test -d /usr/lib/picolibc/riscv64-unknown-elf/lib; then \
	  echo "toolchain: clang-14 + lld-14 + riscv64-unknown-elf-gcc (libgcc) + picolibc (libm) present"; \
	else \
	  echo "toolchain: installing $(APT_PKGS) via apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

bench: setup
	$(BIN)/bench run resnet vww aww

# Regenerate the committed baseline after an intended change of the figures.
baseline: setup
	$(BIN)/bench baseline

test: setup
	$(BIN)/pytest -q -n $(JOBS)

clean:
	rm -rf build .pytest_cache
