#!/usr/bin/env bash
# ansible-test bootstraps pip in the virtual environments it makes with a get-pip script that it
# downloads from a host these machines cannot reach (ansible/ansible#77304). It first looks in
# its cache, so write a stand-in there for the pip version this ansible-test wants: it installs
# pip with ensurepip, then the exact packages asked for, from PyPI.
# usage: scripts/write-get-pip-stand-in.sh <venv with ansible-core>
set -euo pipefail
venv="${1:?usage: write-get-pip-stand-in.sh <venv>}"
requirements_py="$(ls "$venv"/lib/python3.*/site-packages/ansible_test/_internal/python_requirements.py)"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
sed -n "s/^ *pip='\([0-9.]*\)',\?$/\1/p" "$requirements_py" | sort -u | while read -r pip_version; do
    target="$cache/get_pip_${pip_version//./_}.py"
    [ -f "$target" ] && grep -q 'org.async_jobs stand-in' "$target" && continue
    cat > "$target" <<'PY'
"""org.async_jobs stand-in for get-pip.py: ensurepip, then pip install of the given arguments."""
import subprocess
import sys

ensure = subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=False)
if ensure.returncode:
    sys.exit(ensure.returncode)
arguments = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.run([sys.executable, "-m", "pip", "install", "--quiet"] + arguments, check=False).returncode)
PY
done
