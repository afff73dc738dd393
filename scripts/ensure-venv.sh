#!/usr/bin/env bash
# Make (once) and print the cached virtual environment for one ansible-core minor version.
# usage: scripts/ensure-venv.sh 2.21
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

core="${1:?usage: ensure-venv.sh <ansible-core minor, e.g. 2.21>}"
py_minor=""
for pair in $SUPPORTED; do
    [ "${pair%%:*}" = "$core" ] && py_minor="${pair##*:}"
done
[ -n "$py_minor" ] || die "ansible-core $core is not one of the supported versions ($SUPPORTED)"

venv="$(venv_dir "$core")"
stamp="$venv/.requirements"
wanted="ansible-core>=$core.0,<$core.999 $(tr '\n' ' ' < "$here/../tests/requirements-test.txt")"

if [ ! -x "$venv/bin/python" ]; then
    python="$(find_python "$py_minor")" || die "Python $py_minor not found (looked in $PYENV_ROOT/versions and PATH)"
    log "creating $venv with $python"
    rm -rf "$venv"
    mkdir -p "$CACHE_DIR"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    log "installing the test requirements for ansible-core $core into $venv"
    "$venv/bin/python" -m pip install -q "ansible-core>=$core.0,<$core.999" -r "$here/../tests/requirements-test.txt"
    echo "$wanted" > "$stamp"
fi
echo "$venv"
