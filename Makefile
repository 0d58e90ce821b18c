# neuron-ann: everything from a fresh machine with only python3, gcc and make.
#   make demo       set up .venv, install, compile mechanisms, run the main job
#   make test       same set-up, then the fast tests (not marked slow)
#   make test-slow  the slow tests (real training targets, long simulations)
#   make models     retrain the shipped bundles reproducibly

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MECH   := $(VENV)/.mechanisms
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-slow test-mpi models mechanisms clean sysdeps

demo: $(MECH)
	$(VENV)/bin/neuron-ann demo

test: $(MECH)
	$(PY) -m pytest -m "not slow" -q

test-slow: $(MECH)
	$(PY) -m pytest -m slow -q

test-mpi: $(MECH)
	$(PY) -m pytest -m mpi -q

models: $(MECH)
	NEURON_ANN=$(VENV)/bin/neuron-ann bash examples/train_shipped_models.sh

mechanisms: $(MECH)

# System packages: g++ (NEURON 9 compiles mechanisms as C++) and the venv module.
sysdeps:
	@if ! command -v g++ >/dev/null 2>&1 || ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q g++ make python3-venv python3-dev; \
	  else echo "install g++ and the Python venv module with your package manager" >&2; exit 1; fi; \
	fi

$(PY): | sysdeps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): setup.py | $(PY)
	$(PY) -m pip install -q -e ".[train,mpi,test]"
	touch $@

$(MECH): $(STAMP) $(wildcard mod/*.mod)
	$(PY) -c "import neuron_ann.mechanisms as m; print('mechanisms:', m.load()); print('hoc library:', *m.install_hoc_library())"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
