# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint venv install install-dev migrate messages static bench bench-scale clean fonts

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "需要 Python 3.11 或更新版本"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled translations are built when gettext is present; the Chinese source strings need none.
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null 2>&1 && [ -d locale ]; then $(BIN)/python manage.py compilemessages -v0 --ignore=.venv; fi

# The annual report's chart (png, and the chart in docx) draws Chinese with WenQuanYi Micro Hei
# (Debian: fonts-wqy-microhei). Installed when missing and apt-get can run; otherwise a hint.
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
	  echo "== 安装中文字体 fonts-wqy-microhei（年度报告图表需要）"; \
	  { $$SUDO apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null 2>&1 \
	    || { $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null 2>&1; }; } \
	  || echo "未能安装 fonts-wqy-microhei：年度报告的 png/docx 图表将提示缺少字体。请手动安装：apt-get install fonts-wqy-microhei"; }

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput -v0

run: $(VENV)/.installed messages migrate fonts
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev messages fonts
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

bench: $(VENV)/.installed-dev
	for b in bench/[a-z]*.py; do [ "$$b" = bench/scale.py ] && continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

# the province (issue 18, docs/scale.md): make bench-scale STAFF=200000 UNITS=4000
STAFF ?= 1000000
UNITS ?= 20000
bench-scale: $(VENV)/.installed-dev
	$(BIN)/python bench/scale.py --staff $(STAFF) --units $(UNITS)

clean:
	rm -rf $(VENV) db.sqlite3* var staticfiles
