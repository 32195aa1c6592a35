# NNDL Practice Kit — entry points (see README.md and DESIGN contracts).
#   make                  build every chapter, grade references (full marks) and stubs (zero), print summary
#   make test [CH=5]      run the test suite (CH: one chapter's tests only)
#   make grade CH=2 SUBMISSIONS=dir [OUT=grades] [JOBS=1] [TIMEOUT=s] [DEVICE=auto|cpu|gpu] [REGRADE=1]
#   make gradebook OUT=grades   merge every chapter's grades.csv into OUT/gradebook.csv, with a class summary
#   make demo             grade a synthetic class (complete, partial, broken, looping …) of every chapter
#   make nbgrader         an nbgrader course (build/nbgrader) generated from the same masters
#   make bench            grading speed vs plain otter run and import paddle → docs/benchmarks.md
#   make check-generated  fail if committed student bundles differ from a fresh build

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= grades
JOBS ?= 1
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: all test grade gradebook demo bench nbgrader build check-generated clean

all: $(STAMP)
	$(PY) -m nndl_grading.cli all

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(if $(CH),-m ch$(shell printf '%02d' $(CH)))

build: $(STAMP)
	$(PY) -m nndl_grading.cli build $(CH)

check-generated: $(STAMP)
	$(PY) -m nndl_grading.cli check-generated

grade: $(STAMP)
	@test -n "$(CH)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade CH=<n> SUBMISSIONS=<dir or .ipynb> [OUT=grades] [JOBS=n] [TIMEOUT=s] [DEVICE=auto|cpu|gpu] [REGRADE=1]"; exit 2; }
	$(PY) -m nndl_grading.cli grade $(CH) "$(SUBMISSIONS)" --out "$(OUT)" --jobs $(JOBS) \
		$(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(DEVICE),--device $(DEVICE)) $(if $(REGRADE),--regrade)

gradebook: $(STAMP)
	$(PY) -m nndl_grading.cli gradebook --out "$(OUT)"

demo: $(STAMP)
	$(PY) -m nndl_grading.cli demo $(CH)

nbgrader: $(STAMP)
	$(PY) -m nndl_grading.cli nbgrader $(CH)

bench: $(STAMP)
	$(PY) -m nndl_grading.bench

clean:
	rm -rf build grades
