# NNDL Practice Kit — entry points (see README.md and DESIGN contracts).
#   make                  build every chapter, grade references (full marks) and stubs (zero), print summary
#   make test [CH=5]      run the test suite (CH: one chapter's tests only)
#   make grade CH=2 SUBMISSIONS=dir [OUT=grades] [JOBS=1] [TIMEOUT=s] [DEVICE=auto|cpu|gpu] [REGRADE=1] [SANDBOX=off]
#                         [SCHEDULER=tcp://host:8786 | local:4]   grade on a Dask cluster (README: grading on a cluster)
#   make gradebook OUT=grades   merge every chapter's grades.csv into OUT/gradebook.csv, with a class summary
#   make demo             grade a synthetic class (complete, partial, broken, looping …) of every chapter
#   make nbgrader         an nbgrader course (build/nbgrader) generated from the same masters (trusted students only)
#   make nbgrader-import CH=2 OUT=grades [COURSE=build/nbgrader]   make grade's points into nbgrader's gradebook
#   make similarity CH=3 SUBMISSIONS=dir [OUT=grades]   which submissions share answers → OUT/chNN/similarity.html, .csv
#   make bench            grading speed vs plain otter run and import paddle, sandbox cost → docs/benchmarks.md
#   SANDBOX=off           run students' code without the bwrap sandbox (knowingly: every row says so)
#   make check-generated  fail if committed student bundles differ from a fresh build

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= grades
JOBS ?= 1
SANDBOX ?= on
COURSE ?= build/nbgrader
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: all test grade gradebook demo bench nbgrader nbgrader-import build check-generated clean sandbox similarity

all: $(STAMP) sandbox
	$(PY) -m nndl_grading.cli all --sandbox $(SANDBOX)

# Is bubblewrap here and working? Installs it as root with apt-get, else prints the one command to run.
sandbox: $(STAMP)
	@$(PY) -m nndl_grading.sandbox --install $(if $(filter off,$(SANDBOX)),--off)

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

grade: $(STAMP) $(if $(SCHEDULER),,sandbox)   # on a cluster the workers check their sandbox
	@test -n "$(CH)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade CH=<n> SUBMISSIONS=<dir or .ipynb> [OUT=grades] [JOBS=n] [TIMEOUT=s] [DEVICE=auto|cpu|gpu] [REGRADE=1]"; exit 2; }
	$(PY) -m nndl_grading.cli grade $(CH) "$(SUBMISSIONS)" --out "$(OUT)" --jobs $(JOBS) \
		$(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(DEVICE),--device $(DEVICE)) $(if $(REGRADE),--regrade) \
		--sandbox $(SANDBOX) $(if $(SCHEDULER),--scheduler "$(SCHEDULER)")

gradebook: $(STAMP)
	$(PY) -m nndl_grading.cli gradebook --out "$(OUT)"

demo: $(STAMP) sandbox
	$(PY) -m nndl_grading.cli demo $(CH) --sandbox $(SANDBOX)

nbgrader: $(STAMP)
	$(PY) -m nndl_grading.cli nbgrader $(CH)

nbgrader-import: $(STAMP)
	@test -n "$(CH)" || { echo "usage: make nbgrader-import CH=<n> OUT=grades [COURSE=build/nbgrader]"; exit 2; }
	$(PY) -m nndl_grading.cli nbgrader-import $(CH) --out "$(OUT)" --course "$(COURSE)"

similarity: $(STAMP)
	@test -n "$(CH)" -a -n "$(SUBMISSIONS)" || { echo "usage: make similarity CH=<n> SUBMISSIONS=<dir> [OUT=grades]"; exit 2; }
	$(PY) -m nndl_grading.similarity $(CH) "$(SUBMISSIONS)" --out "$(OUT)"

bench: $(STAMP) sandbox
	$(PY) -m nndl_grading.bench

clean:
	rm -rf build grades
