#!/usr/bin/env bash
# Run ansible-test for one ansible-core version on a copy of this checkout laid out as
# ansible_collections/org/async_jobs (ansible-test accepts no other path, and no symlink).
# usage: scripts/ansible-test.sh 2.21 sanity --test pylint plugins/modules/wait_jobs.py
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

core="${1:?usage: ansible-test.sh <core minor> <ansible-test command> [args...]}"
shift
venv="$("$here/ensure-venv.sh" "$core")"
python="$venv/bin/python"
"$here/write-get-pip-stand-in.sh" "$venv"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/async-jobs-ansible-test.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
copy="$scratch/ansible_collections/org/async_jobs"
mkdir -p "$copy"
# The files git would ship (tracked and untracked-but-not-ignored), as they are in the work tree.
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [ -e "$f" ] && printf '%s\0' "$f"
    done | tar --null -T - -cf -) | tar -xf - -C "$copy"
else
    tar -C "$root" --exclude=./.git --exclude=./tests/output --exclude='./.venv*' --exclude=./collections -cf - . | tar -xf - -C "$copy"
fi

cd "$copy"
export PATH="$venv/bin:$PATH"
status=0
"$venv/bin/ansible-test" "$@" --local --python "$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no || status=$?
if [ -d "$copy/tests/output" ]; then
    mkdir -p "$root/tests/output"
    cp -r "$copy/tests/output/." "$root/tests/output/" 2>/dev/null || true
fi
exit "$status"
