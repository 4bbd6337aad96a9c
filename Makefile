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
RESULTS_NB := $(sort $(wildcard notebooks/0[6-9]_*.ipynb notebooks/1[0-9]_*.ipynb))
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: setup demo book test lint unit quick nbval browser notebooks results results-notebooks sync student bench gpu-session campaign measured clean help

help:
	@echo "make setup     create .venv and install the project with its test, book and grading extras"
	@echo "make book      set up .venv and build the book into _build/html"
	@echo "make test      set up .venv and run lint, unit tests, nbval, book build, browser test"
	@echo "               (CI: .ci/run, with RULKIT_STRICT=1: a test lacking its environment fails)"
	@echo "make quick     lint + the fast unit tests: no slow or browser tests, no Slurm, no nbgrader,"
	@echo "               no notebook run (about 2 minutes on 2 cores)"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make unit      every test in tests/ but the browser test"
	@echo "make nbval     execute every chapter notebook and compare the checked outputs"
	@echo "make browser   build the book and open it in headless Chromium"
	@echo "make demo      set up .venv and train the smoke profile on FD001 (minutes on a CPU)"
	@echo "make notebooks re-execute every notebook in place (authors; needs the C-MAPSS files)"
	@echo "make results-notebooks  re-execute the chapters that show results (06-12) after make measured"
	@echo "make student   regenerate notebooks/student/ with nbgrader (scripts/grading.py student)"
	@echo "make bench     run the CPU benchmarks in benchmarks/"
	@echo "make gpu-session  the GPU session: benchmark + priority grid, state banked under OUT"
	@echo "make campaign  start or continue the FD001 CPU campaign in the background (results/campaign.log)"
	@echo "make measured  rebuild rulkit/measured.json (the results shipped with the package) from results/"
	@echo "make results   after a result file lands: make measured, then make results-notebooks"
	@echo "               (tests/test_results_current.py fails until both have run)"
	@echo "make sync      pair each notebook with its .py twin again (jupytext --sync)"
	@echo "make clean     remove _build, the caches and .scratch"
	@echo "make help      this list"

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

# Slurm (test_slurm), notebook runs (test_fresh_runtime) and training processes are marked
# slow; test_grading runs nbgrader, and executes chapters; the student copies use nbgrader.
quick: lint
	$(BIN)/pytest -q -m "not slow and not browser" --ignore=tests/test_grading.py \
		--deselect=tests/test_notebooks.py::test_student_copies \
		--deselect=tests/test_notebooks.py::test_student_copies_are_deterministic \
		--deselect=tests/test_notebooks.py::test_committed_student_copies_are_current tests

nbval: setup
	$(BIN)/pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider $(NB)

browser: book
	$(BIN)/pytest -q -m browser tests/test_book_browser.py

test: lint unit nbval browser

notebooks: setup
	$(BIN)/jupytext --sync $(NB)
	# one thread: the smoke demos' figures, which the prose quotes, depend on the thread count
	OMP_NUM_THREADS=1 $(BIN)/jupyter execute --inplace --timeout=900 $(NB)
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

results: measured
	$(MAKE) results-notebooks

measured: setup
	$(BIN)/python -c "from rulkit.results import write_measured; print(write_measured('results'))"
	$(BIN)/python -c "from rulkit import report, results; report.update_readme('README.md', results.load_results('results'))"

clean:
	rm -rf _build .pytest_cache .ruff_cache .scratch
