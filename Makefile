# Everything a fresh clone needs: `make demo` and `make test` bootstrap themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: bootstrap demo test serve clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]'
	@touch $@

# venv + package, then a browser and CJK fonts (found or installed; see scripts/bootstrap.py)
bootstrap: $(STAMP)
	@$(PY) -m scripts.bootstrap

demo: bootstrap
	@$(VENV)/bin/tuiding run scenarios/ --out runs/

test: bootstrap
	@$(VENV)/bin/pytest -n 2 -q

serve: bootstrap
	@$(VENV)/bin/tuiding serve migu --dev

clean:
	rm -rf runs/ test-results/ build/ dist/ *.egg-info
