# shellcheck shell=bash
# Shared settings for the project's scripts: the supported ansible-core versions, the Python
# each runs on, and where the per-version virtual environments are cached.

CACHE_DIR="${ASYNC_JOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/org.async_jobs}"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"

# "<core minor> <python minor>" pairs, one per supported ansible-core.
export SUPPORTED="${ASYNC_JOBS_CORE_VERSIONS:-2.19:3.11 2.20:3.12 2.21:3.13}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# find_python 3.12 -> path of a python3.12 interpreter (pyenv's, else the PATH's)
find_python() {
    local minor="$1" candidate
    for candidate in "$PYENV_ROOT"/versions/"$minor".*/bin/python"$minor"; do
        [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
    candidate="$(command -v "python$minor" 2>/dev/null || true)"
    if [ -n "$candidate" ] && "$candidate" -c 'pass' 2>/dev/null; then
        echo "$candidate"; return 0
    fi
    return 1
}

venv_dir() { echo "$CACHE_DIR/venv-core-$1"; }
