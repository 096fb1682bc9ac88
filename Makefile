# Two commands on a fresh machine: `make paper` rebuilds the review, `make test` tests it.
# Every target creates .venv and installs the package first when needed (idempotent:
# a second call installs nothing).

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
CORES ?= all
# Where pip takes torch from. Empty (the default): pip's usual index, which on Linux x86-64 is PyPI's
# GPU build (several GB of GPU libraries) unless a CPU wheel is already at hand (pip's cache or
# find-links, as on the project's machines). For the CPU build (about 200 MB):
#   make small TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# Interrupted jobs are rerun (not a stop), and a failed job's log is printed on the console.
SNAKEMAKE := $(BIN)/snakemake --cores $(CORES) --printshellcmds --rerun-incomplete --show-failed-logs
# Steps run `python -m mlreview ...`: put the environment's python first on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: help install test-deps paper paper-offline small test test-paper report resources benchmarks lint dag clean-small

help:
	@echo "make paper       rebuild every result with the paper config (config/config.yaml)"
	@echo "make paper-offline  paper scale without internet: MNIST mirror, SUSY stand-in"
	@echo "make small       the same DAG at small scale (config/small.yaml), minutes"
	@echo "make test        the test suite (unit tests + the small DAG in a temporary copy)"
	@echo "make test-deps   the system packages of the SLURM test (slurm-wlm, munge; root, Debian)"
	@echo "make test-paper  checks that need the paper-scale results (run after make paper)"
	@echo "make report      (re)build the scorecard, results/report.html and Snakemake's report"
	@echo "                 results/snakemake-report.html (CONFIG=config/small.yaml: results/small)"
	@echo "make resources   declared threads/mem_mb/runtime per rule vs the benchmark files"
	@echo "                 (CONFIG=config/offline.yaml for results/offline, PROFILE=profiles/slurm)"
	@echo "make benchmarks  per-rule CPU/wall/memory table, timeline and critical path of a finished run"
	@echo "                 (RESULTS=results/small, results/offline; TOP=15 for the 15 most expensive rules)"
	@echo "make lint        snakemake --lint and snakefmt --check"

install: $(STAMP)

# torch is installed first and alone (from TORCH_INDEX when it is set), so that the package's pin
# is already satisfied when the package is installed.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

paper: $(STAMP)
	$(SNAKEMAKE)

# The paper scale on a machine without internet: MNIST from ../shared/data, SUSY from the
# physics stand-in generator instead of the UCI file (see config/offline.yaml).
paper-offline: $(STAMP)
	$(SNAKEMAKE) --configfile config/offline.yaml

small: $(STAMP)
	$(SNAKEMAKE) --configfile config/small.yaml

# Both reports: the project's page (results/report.html) and Snakemake's own
# (results/snakemake-report.html: every figure under its review section, the scorecard, the
# project's page, the run times). CONFIG=config/small.yaml for results/small.
RESULTS = $(if $(CONFIG),results/$(basename $(notdir $(CONFIG))),results)
CONFIG_FLAG = $(if $(CONFIG),--configfile $(CONFIG))
report: $(STAMP)
	$(SNAKEMAKE) $(RESULTS)/report.html $(RESULTS)/scorecard.csv $(RESULTS)/report/captions $(CONFIG_FLAG)
	$(BIN)/snakemake --report $(RESULTS)/snakemake-report.html $(CONFIG_FLAG)

# The system packages the tests need (the real one-node SLURM cluster of tests/test_slurm.py), in
# one explicit step before the tests (`.ci/run` calls it); it waits for a dpkg lock another process
# holds instead of failing. Without root or apt-get it says so, and the SLURM test is skipped.
SLURM_PACKAGES := slurm-wlm munge
SLURM_PROGRAMS := munged slurmctld slurmd sinfo sbatch squeue scancel srun
APT := apt-get -o DPkg::Lock::Timeout=600 -y --no-install-recommends
test-deps:
	@missing=""; for p in $(SLURM_PROGRAMS); do command -v $$p >/dev/null || [ -x /usr/sbin/$$p ] || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "test-deps: SLURM is installed"; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "test-deps: SLURM programs missing ($$missing) and no root/apt-get: tests/test_slurm.py will be skipped"; \
	else DEBIAN_FRONTEND=noninteractive $(APT) install $(SLURM_PACKAGES) || \
	  { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update && \
	    DEBIAN_FRONTEND=noninteractive $(APT) install $(SLURM_PACKAGES); }; fi

test: $(STAMP)
	$(BIN)/python -m pytest -m "not paper" --durations=25

test-paper: $(STAMP)
	$(BIN)/python -m pytest -m paper

# Declared resources of every rule (a forced dry run) against the memory and time measured
# in its benchmark files; flags rules that use more than they declare.
resources: $(STAMP)
	$(BIN)/python -m mlreview.report.resources $(CONFIG_FLAG) $(if $(PROFILE),--profile $(PROFILE))

# Where the time of a finished run went (its benchmark files): the per-rule table, the timeline and
# the critical path of the DAG (see benchmarks/README.md).
RESULTS ?= results
benchmarks: $(STAMP)
	$(BIN)/python -m mlreview.report.benchmarks $(RESULTS) $(if $(TOP),--top $(TOP))

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow

dag: $(STAMP)
	$(BIN)/snakemake --dag | dot -Tpdf > dag.pdf

clean-small:
	rm -rf results/small
