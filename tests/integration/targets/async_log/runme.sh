#!/usr/bin/env bash
# Run a playbook with org.async_jobs.async_log enabled, then check what it wrote.
set -eux

log="${OUTPUT_DIR:-$(mktemp -d)}/async_log.jsonl"
rm -f "$log" "${log%.jsonl}.html"

ANSIBLE_CALLBACKS_ENABLED=org.async_jobs.async_log ANSIBLE_ASYNC_LOG_PATH="$log" \
    ansible-playbook -i inventory playbook.yml "$@" | tee "${log%.jsonl}.stdout"

"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" check_log.py "$log" "${log%.jsonl}.stdout"
