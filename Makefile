# Two commands: `make run` (dashboard on the sample data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/arlens.duckdb
PORT   ?= 8501
CHROMIUM ?= /usr/bin/chromium
TEST_WORKERS ?= auto

.PHONY: run test check lint format bench bench-pages bench-load bench-spark sample db clean chromium java

run: $(VENV)/.installed $(DB)
	$(BIN)/streamlit run dashboard.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false -- --db $(DB)

test: $(VENV)/.test-installed chromium java
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

check: test

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.test-installed
	$(BIN)/python -m benchmarks

# Page speed in headless Chromium, cold and warm, on the sample and the 1M store (`make bench`).
bench-pages: $(VENV)/.test-installed
	$(BIN)/python -m benchmarks.pages

# Page settle times with 20 readers at once on the 1M store (benchmarks/LOAD.md).
bench-load: $(VENV)/.test-installed
	$(BIN)/python -m benchmarks.load

# The questions on DuckDB and on Spark (local mode) at 1M invoices, answers checked to the cent
# (benchmarks/SPARK.md).
bench-spark: $(VENV)/.test-installed java
	$(BIN)/python -m benchmarks.spark

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(BIN)/python -m pip install -q -r requirements-test.txt
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not allowed here);
# the PDF tests render pages with pdftoppm (poppler-utils).
chromium:
	@if [ ! -x $(CHROMIUM) ] || ! command -v pdftoppm >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
				poppler-utils; \
		else \
			echo "Missing: sudo apt-get install chromium poppler-utils (those tests will be skipped)"; \
		fi; \
	fi

# The Spark engine's tests run pyspark in local mode, which needs Java 17 or newer (a JRE is
# enough; Debian 12's is openjdk-17).
java:
	@if ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				openjdk-17-jre-headless; \
		else \
			echo "Missing: sudo apt-get install openjdk-17-jre-headless (the Spark tests will be skipped)"; \
		fi; \
	fi

# The database is built from the bundled sample exports when there is none.
$(DB):
	$(MAKE) $(VENV)/.installed
	$(BIN)/arlens import-folder sample_data --db $(DB)

db: $(VENV)/.installed
	rm -f $(DB) $(DB).wal
	$(BIN)/arlens import-folder sample_data --db $(DB)

sample: $(VENV)/.installed
	$(BIN)/arlens sample --out sample_data

clean:
	rm -rf $(VENV) data tests/artifacts .pytest_cache .ruff_cache
