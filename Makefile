# Every target sets up what it needs first, so each works from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp

.PHONY: setup dashboard demo test lint format mutation clean lock dist
.PHONY: bench bench-scenarios bench-recording bench-recording-instructions bench-instructions
.PHONY: bench-upstream-clients
.PHONY: bench-rss bench-streams bench-soak
.PHONY: bench-calls bench-instructions-steady

setup: $(STAMP) dashboard

# The exact versions the tests passed with: requirements/dev.lock (the wheel itself keeps
# ranges), installed by pip. The wheelhouse holds the runtime's locked wheels, from which
# tests/integration/test_dist_install.py installs the built wheel offline.
$(STAMP): pyproject.toml requirements/dev.lock requirements/runtime.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip wheel --quiet -r requirements/runtime.lock -w $(VENV)/wheelhouse
	# redis needs async-timeout on Python before 3.11.3 (Debian 12's python3, which the install
	# test may use); the line above skips it on a newer Python
	grep '^async-timeout==' requirements/runtime.lock | cut -d' ' -f1 \
		| xargs -r $(BIN)/pip wheel --quiet --no-deps -w $(VENV)/wheelhouse
	touch $(STAMP)

# Refresh both locks to the newest versions pyproject.toml's ranges allow (then run make test);
# uv, a dev dependency pinned in the lock, resolves them for every platform.
lock: setup
	$(BIN)/uv pip compile --quiet --upgrade --universal --python-version 3.11 \
		pyproject.toml -o requirements/runtime.lock
	$(BIN)/uv pip compile --quiet --upgrade --universal --python-version 3.11 \
		--extra dev pyproject.toml -o requirements/dev.lock

# The wheel and the sdist, each with the built dashboard and the migrations, in dist/.
dist: setup
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	@ls -l dist

# The dashboard: ui/ built into the package (src/chain429/web/, not committed) when its sources
# changed, after npm ci when its lockfile changed; the package build runs the same script.
dashboard:
	$(PYTHON) build_support/dashboard_build.py

demo: setup
	$(BIN)/429chain demo $(DEMO_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench build_support
	$(BIN)/ruff format --check src tests bench build_support
	$(BIN)/mypy
	cd ui && npm run lint
	cd ui && npm run typecheck

format: setup
	$(BIN)/ruff format src tests bench build_support
	$(BIN)/ruff check --fix src tests bench build_support

# The dashboard's Vitest tests, then pytest in parallel over the cores (serially the suite takes
# over 90 s); coverage combines the workers and the processes tests start, and fails the run
# under 90% of the lines of src/.
test: lint
	cd ui && npm test -- --run
	$(BIN)/pytest -q -n auto --cov --cov-fail-under=90

# Not part of `make test`: mutants of the decision code (see [tool.mutmut] in pyproject.toml)
# against its unit tests; prints the survivors and the share of mutants caught.
mutation: setup
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
		caught = s['killed'] + s['timeout']; \
		print(f'caught {caught} of {s[\"total\"]} mutants: {100 * caught / s[\"total\"]:.1f}%')"

bench: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v redis-server >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk redis-server)
	$(BIN)/python bench/overhead.py $(BENCH_ARGS)
	$(BIN)/python bench/streams_open.py $(STREAMS_ARGS)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)
	$(BIN)/python bench/state_store.py $(STATE_STORE_ARGS)
	$(BIN)/python bench/workers.py $(WORKERS_ARGS)

bench-scenarios: setup
	$(BIN)/python bench/scenarios.py $(SCENARIO_ARGS)

bench-recording: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null || (apt-get update && apt-get install -y nginx wrk)
	$(BIN)/python bench/recording_cost.py $(RECORDING_ARGS)

bench-recording-instructions: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v valgrind >/dev/null || (apt-get update && apt-get install -y nginx wrk valgrind)
	$(BIN)/python bench/recording_instructions.py $(INSTRUCTION_ARGS)

bench-instructions: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v valgrind >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk valgrind)
	$(BIN)/python bench/instructions.py $(INSTRUCTION_ARGS)

# issue 14: the proxy with aiohttp's upstream client and with pyreqwest's, beside the relay.
bench-upstream-clients: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk)
	$(BIN)/python bench/upstream_clients.py $(CLIENT_ARGS)

bench-calls: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk)
	$(BIN)/python bench/calls.py $(CALLS_ARGS)

bench-instructions-steady: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v valgrind >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk valgrind)
	$(BIN)/python bench/steady_instructions.py $(STEADY_ARGS)

bench-rss: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk)
	$(BIN)/python bench/rss_after_load.py $(RSS_ARGS)

bench-streams: setup
	$(BIN)/python bench/streams_open.py $(STREAMS_ARGS)

bench-soak: setup
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

.PHONY: bench-ttft
bench-ttft: setup
	$(BIN)/python bench/ttft.py $(TTFT_ARGS)

# issue 14: instructions per stream in the attempt and the relay alone, one event per read
# and the whole stream in one read (STREAM_INSTRUCTION_ARGS="--streams 100 --keep DIR").
.PHONY: bench-stream-instructions
bench-stream-instructions: setup
	command -v nginx >/dev/null && command -v valgrind >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx valgrind)
	$(BIN)/python bench/stream_instructions.py --shape event $(STREAM_INSTRUCTION_ARGS)
	$(BIN)/python bench/stream_instructions.py --shape whole $(STREAM_INSTRUCTION_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants ui/node_modules src/chain429/web test-artifacts

# issue 17: the limit state in Redis beside the memory store, and 2 workers against 1
# (STATE_STORE_ARGS="--rounds 5 --concurrency 32,128").
.PHONY: bench-state-store
bench-state-store: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v redis-server >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk redis-server)
	$(BIN)/python bench/state_store.py $(STATE_STORE_ARGS)

# issue 17: two workers against one on a two-core machine, by CPU per request
# (WORKERS_ARGS="--rounds 5 --concurrency 32,128 --recording off").
.PHONY: bench-workers
bench-workers: setup
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v redis-server >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx wrk redis-server)
	$(BIN)/python bench/workers.py $(WORKERS_ARGS)
