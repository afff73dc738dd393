#!/usr/bin/env bash
# The fanout strategy on local connections: lanes, join, handlers, a lane rescue, and a refusal.
set -eux

export ANSIBLE_DEPRECATION_WARNINGS=False
out="${OUTPUT_DIR:-$(mktemp -d)}"

ansible-playbook -i inventory lanes.yml "$@" | tee "$out/fanout-lanes.stdout"
grep -E '^lane-host-1 +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0' "$out/fanout-lanes.stdout"
grep -E '^lane-host-2 +: .*failed=0 +skipped=[0-9]+ +rescued=1' "$out/fanout-lanes.stdout"

marker="$out/fanout-refused-marker"
rm -f "$marker"
if ansible-playbook -i inventory refused.yml -e "marker=$marker" "$@" > "$out/fanout-refused.stdout" 2>&1; then
    echo "the include in a lane was not refused" >&2
    exit 1
fi
grep -F "include_tasks cannot run in a fan-out lane: task 'Included in a lane'" "$out/fanout-refused.stdout"
grep -F "refused.yml:13" "$out/fanout-refused.stdout"
test ! -e "$marker"
