# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
COLLECTIONS := collections
DEMO_CORE ?= ansible-core>=2.19.0,<2.20

.PHONY: demo test build clean

demo: build
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) $(VENV)/bin/python examples/run_demo.py

$(VENV)/bin/ansible-playbook:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q "$(DEMO_CORE)"

build: $(VENV)/bin/ansible-playbook
	rm -rf $(COLLECTIONS) build
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build .
	$(VENV)/bin/ansible-galaxy collection install --offline --force -p $(COLLECTIONS) build/org-async_jobs-*.tar.gz

test:
	scripts/run-tests.sh

clean:
	rm -rf $(VENV) $(COLLECTIONS) build tests/output
