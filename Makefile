# rulkit + companion book. `make book` builds the book, `make test` runs every check.
# Both create the virtual environment .venv on first use.
#
# TORCH: the torch requirement installed before the project. Users get the registry's
# default build; CI passes TORCH="torch==2.13.0" (the CPU build) to avoid a CUDA download.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch
NB     := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# the chapters that show full-recipe results: re-executed when a result file lands
RESULTS_NB := $(sort $(wildcard notebooks/0[6-9]_*.ipynb notebooks/10_*.ipynb))
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: setup demo book test lint unit nbval browser notebooks results-notebooks sync student bench gpu-session campaign measured clean help

help:
	@echo "make book      set up .venv and build the book into _build/html"
	@echo "make test      set up .venv and run lint, unit tests, nbval, book build, browser test"
	@echo "make demo      set up .venv and train the smoke profile on FD001 (about a minute on a CPU)"
	@echo "make notebooks re-execute every notebook in place (authors; needs the C-MAPSS files)"
	@echo "make results-notebooks  re-execute the chapters that show results (06-10) after make measured"
	@echo "make student   regenerate notebooks/student/ with nbgrader (scripts/grading.py student)"
	@echo "make bench     run the CPU benchmarks in benchmarks/"
	@echo "make gpu-session  the GPU session: benchmark + priority grid, state banked under OUT"
	@echo "make campaign  start or continue the FD001 CPU campaign in the background (results/campaign.log)"
	@echo "make measured  rebuild rulkit/measured.json (the results shipped with the package) from results/"

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(BIN)/activate

setup: $(BIN)/activate

demo: setup
	$(BIN)/rulkit train --subset FD001 --method grace --seed 0 --profile smoke --out .scratch/demo

book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup
	$(BIN)/pytest -q -m "not browser" tests

nbval: setup
	$(BIN)/pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider $(NB)

browser: book
	$(BIN)/pytest -q -m browser tests/test_book_browser.py

test: lint unit nbval browser

notebooks: setup
	$(BIN)/jupytext --sync $(NB)
	$(BIN)/jupyter execute --inplace --timeout=900 $(NB)
	$(BIN)/jupytext --sync $(NB)
	$(MAKE) student

results-notebooks: setup
	$(MAKE) notebooks NB="$(RESULTS_NB)"

sync: setup
	$(BIN)/jupytext --sync $(NB)

student: setup
	$(BIN)/python scripts/grading.py student

bench: setup
	$(BIN)/python benchmarks/bench_prepare.py
	$(BIN)/python benchmarks/bench_training.py --checkpoint

gpu-session:
	PYTHON=$(BIN)/python benchmarks/gpu_session.sh

campaign: setup
	nohup benchmarks/campaign.sh >/dev/null 2>&1 &
	@echo "campaign running in the background; progress: results/campaign.log"

measured: setup
	$(BIN)/python -c "from rulkit.results import write_measured; print(write_measured('results'))"
	$(BIN)/python -c "from rulkit import report, results; report.update_readme('README.md', results.load_results('results'))"

clean:
	rm -rf _build .pytest_cache .ruff_cache .scratch
