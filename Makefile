# 党群工作管理门户 — developer entry points.  A fresh machine needs only Python 3.11+ and make.
#
#   make run                 embedded PostgreSQL + Redis under var/, migrate, demo data, web + worker + beat
#   make run PORT=8001       the same on another port
#   make test                the test suite (local PostgreSQL/Redis if they answer, else embedded ones)
#   make test ARGS="-k scope"
#   make services            only the embedded PostgreSQL + Redis; prints the `export` lines
#   make lock                regenerate requirements.lock from pyproject.toml (uses uv)
#   make bench               load benchmark: reads under 5 writes/s, gunicorn + wrk, ledger vs admin → docs/performance.md
#   make bench-kpis          KPI engine benchmark (1,000,000 demands) on DATABASE_URL — use a database of its own
#   make messages            refresh and compile the translation catalogues (needs GNU gettext)
#   make clean               remove caches and test artifacts (keeps var/)
#   make clean-data          DELETE var/: the embedded database, Redis data, uploads, static files

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help .venv run test services lock messages clean clean-data bench bench-kpis

help:
	@sed -n '3,13s/^# \{0,1\}//p' Makefile

# (Re)install the pinned, hash-checked dependencies whenever requirements.lock changes.
$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $@

.venv: $(STAMP)

run: $(STAMP)
	$(PY) -m portal.launcher run

test: $(STAMP)
	$(PY) -m portal.launcher test $(ARGS)

services: $(STAMP)
	$(PY) -m portal.launcher services

# The database `portal_bench` (local PostgreSQL, else embedded), or DATABASE_URL when set; generates the
# scale data on first use. ARGS go to manage.py bench (e.g. ARGS="--seconds 20 --kpis --imports").
# The tooling lives in benchmarks/, outside the deployed apps: its settings are benchmarks.settings.
bench: $(STAMP)
	$(PY) -m portal.launcher bench $(ARGS)

# Fills the database at DATABASE_URL (refuses one that already holds demands): point it at a
# database of its own, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench.
bench-kpis: $(STAMP)
	@test -n "$(DATABASE_URL)" || { echo "Set DATABASE_URL to a database of its own for the benchmark."; exit 2; }
	DJANGO_SETTINGS_MODULE=benchmarks.settings $(PY) manage.py migrate --noinput -v0
	DJANGO_SETTINGS_MODULE=benchmarks.settings $(PY) manage.py bench_kpis $(ARGS)

lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PY) -m pip install --disable-pip-version-check -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes -o requirements.lock

messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache test-artifacts

clean-data:
	@for pidfile in var/pg/postmaster.pid var/redis/redis.pid; do \
	  if [ -f $$pidfile ] && kill -0 $$(head -n 1 $$pidfile) 2>/dev/null; then \
	    echo "An embedded service is still running ($$pidfile): stop 'make run' / 'make services' first."; \
	    exit 1; \
	  fi; \
	done
	rm -rf var
