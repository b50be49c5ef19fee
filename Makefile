# Two commands do all the setup: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PLUGINS := $(sort $(wildcard plugins/*/pyproject.toml))
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGINS))
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install --quiet uv==0.13.9

# Reinstall whenever the core or a plugin's metadata changes. Bytecode is compiled up front because
# uv does not, and where PYTHONDONTWRITEBYTECODE is set every process (each test's
# `leadhub serve`) would otherwise compile some 900 modules again: seconds of CPU per start.
$(STAMP): $(UV) pyproject.toml $(PLUGINS)
	$(UV) pip install --quiet --python $(PY) -e '.[test]' $(foreach p,$(PLUGIN_DIRS),-e '$(p)[test]')
	touch $@

install: $(STAMP)
	$(PY) -m compileall -q -j 0 $(VENV)/lib hub plugins bench

run: install
	$(VENV)/bin/leadhub serve

# The whole suite on the embedded default, then the integration tests again on PostgreSQL + Redis
# and PostgreSQL + RabbitMQ (each test gets its own database and queue, dropped afterwards).
INTEGRATION := tests/test_webhook.py tests/test_delivery.py tests/test_api.py tests/test_admin_pages.py \
	tests/test_config_apply.py tests/test_export_runs.py tests/test_buyer_portal.py tests/test_access_control.py

test: install
	$(VENV)/bin/pytest -q
	$(VENV)/bin/pytest -q --database postgresql --broker redis $(INTEGRATION)
	$(VENV)/bin/pytest -q --database postgresql --broker rabbitmq $(INTEGRATION)

# Performance, measured against baselines in the same run (minutes; not part of `make test`).
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
