# Everything a fresh clone needs: `make demo` and `make test` bootstrap themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
LOG    := $(VENV)/pip.log

.PHONY: bootstrap demo guides test lint docs docs-site messages test-lowest serve clean

# pip's own chatter (and this machine's index warnings) goes to a log; a newcomer sees what happens and that it worked.
$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "bootstrap: creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "bootstrap: installing tuiding with its portals, pytest plugin and test tools into $(VENV) (log: $(LOG))"
	@{ $(PY) -m pip install --upgrade pip && $(PY) -m pip install -e '.[test]'; } > $(LOG) 2>&1 \
		|| { tail -n 30 $(LOG); echo "bootstrap: pip failed; the whole log is in $(LOG)"; exit 1; }
	@touch $@

# venv + package, then a browser, CJK fonts, a video encoder and PDF tools (found or installed; see scripts/tuiding/bootstrap.py).
# NARRATION=1 also installs espeak-ng for spoken video walkthroughs; IMAP=1 Dovecot, the IMAP server the
# test suite starts for its mailbox tests (skipped with a reason without it).
bootstrap: $(STAMP)
	@NARRATION=$(NARRATION) IMAP=$(IMAP) $(PY) -m tuiding.bootstrap

demo: bootstrap
	@$(VENV)/bin/tuiding run scenarios/ --out runs/
	@$(MAKE) --no-print-directory guides

# Both seed guides, written again from the scenarios on the embedded portals: guides/migu/ and guides/cloudpc/.
guides: bootstrap
	@$(VENV)/bin/tuiding guide guides/migu.yaml $$(command -v espeak-ng >/dev/null && echo --narrate)
	@$(VENV)/bin/tuiding guide guides/cloudpc.yaml

# The whole suite: unit, validation, portal, end-to-end and every scenario. Fast lane: pytest -m "not browser".
# --dist loadfile: a module's tests share one worker, so a module fixture that runs journeys runs once, not once per worker.
test: bootstrap
	@$(VENV)/bin/pytest -n 2 --dist loadfile -q

# Lint, format and types, with their configuration in pyproject.toml (mypy finds the packages in their folders).
lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy -p tuiding -p tuiding_portals

# docs/reference/*.md and docs/schema/*.json are generated from the code (tests keep them true).
docs: $(STAMP)
	@$(PY) -m tuiding.docgen

# The docs site (mkdocs, Material theme), built strictly: a broken link or anchor fails the build.
docs-site: $(STAMP)
	@NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	@echo "docs-site: built into build/site/ (open build/site/index.html, or: $(VENV)/bin/mkdocs serve)"

# The words tuiding writes: extract them from the sources (babel.cfg) and merge them into the zh and de catalogs,
# then translate what is new (tests/test_i18n.py fails while a string has no translation).
messages: $(STAMP)
	@$(VENV)/bin/pybabel --quiet extract -F babel.cfg -k _ -k N_ --no-location --no-wrap --sort-output --project tuiding -o scripts/tuiding/locale/tuiding.pot .
	@for lang in zh de; do \
		test -f scripts/tuiding/locale/$$lang/LC_MESSAGES/tuiding.po \
			|| $(VENV)/bin/pybabel --quiet init -D tuiding -l $$lang -i scripts/tuiding/locale/tuiding.pot -d scripts/tuiding/locale --no-wrap; \
		$(VENV)/bin/pybabel --quiet update -D tuiding -l $$lang -i scripts/tuiding/locale/tuiding.pot -d scripts/tuiding/locale --no-wrap --no-fuzzy-matching --ignore-obsolete; \
	done

# The lower bounds in pyproject.toml are real: install exactly them into .venv-lowest and run the fast lane.
test-lowest:
	@mkdir -p build
	@$(PYTHON) -c "import re, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
		reqs = p['dependencies'] + p['optional-dependencies']['portals'] + p['optional-dependencies']['pytest']; \
		print('\n'.join(re.sub(r'\s*>=\s*', '==', r.split(';')[0]) for r in reqs if '>=' in r))" > build/lowest.txt
	@test -x .venv-lowest/bin/python || $(PYTHON) -m venv .venv-lowest
	@echo "test-lowest: installing the lowest allowed versions ($$(tr '\n' ' ' < build/lowest.txt)) into .venv-lowest"
	@.venv-lowest/bin/python -m pip install -c build/lowest.txt -e '.[test]' > build/lowest-pip.log 2>&1 \
		|| { tail -n 30 build/lowest-pip.log; exit 1; }
	@.venv-lowest/bin/pytest -q -m "not browser and not current_deps" -n 2 --dist loadfile tests
	@echo "test-lowest: one journey in the browser with Playwright $$(.venv-lowest/bin/python -c 'import importlib.metadata as m; print(m.version("playwright"))')"
	@.venv-lowest/bin/tuiding run scenarios/migu/web_unsubscribe.yaml scenarios/cloudpc/unsubscribe_sms.yaml --out build/lowest-runs > build/lowest-run.log 2>&1 \
		|| { cat build/lowest-run.log; exit 1; }

serve: bootstrap
	@$(VENV)/bin/tuiding serve migu --dev

clean:
	rm -rf runs/ test-results/ build/ dist/ *.egg-info .venv-lowest guides/migu/ guides/cloudpc/
