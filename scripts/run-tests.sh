#!/usr/bin/env bash
# Every test, as CI runs it: for each supported ansible-core, ansible-test sanity, units and
# integration on a copy of the checkout, then the end-to-end suite against loopback SSH hosts.
# usage: scripts/run-tests.sh [2.19 2.20 2.21]   (default: all supported versions)
# Environment: ASYNC_JOBS_STAGES="sanity units integration e2e" to run fewer stages.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

"$here/install-test-deps.sh" || die "the system test dependencies are missing (see above)"

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
    for pair in $SUPPORTED; do versions+=("${pair%%:*}"); done
fi
stages="${ASYNC_JOBS_STAGES:-sanity units integration e2e}"
read -r -a pytest_args <<< "${ASYNC_JOBS_PYTEST_ARGS:-}"
logs="$root/tests/output/make-test"
mkdir -p "$logs"

passed=0
failed=0
summary=()
for core in "${versions[@]}"; do
    venv="$("$here/ensure-venv.sh" "$core")" || die "could not make the venv for ansible-core $core"
    started=$SECONDS
    outcome=()
    for stage in $stages; do
        log "ansible-core $core: $stage"
        stage_log="$logs/$core-$stage.log"
        case "$stage" in
            sanity) "$here/ansible-test.sh" "$core" sanity --requirements ;;
            units) "$here/ansible-test.sh" "$core" units --requirements ;;
            integration) "$here/ansible-test.sh" "$core" integration --requirements ;;
            e2e) (cd "$root/tests/e2e" && "$venv/bin/python" -m pytest -p no:cacheprovider -ra "${pytest_args[@]}") ;;
            *) die "unknown stage $stage" ;;
        esac > >(tee "$stage_log") 2>&1
        rc=$?
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1)); outcome+=("$stage ok")
        else
            failed=$((failed + 1)); outcome+=("$stage FAILED (rc $rc, $stage_log)")
        fi
    done
    core_version="$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
    joined="$(printf '%s, ' "${outcome[@]}")"
    summary+=("ansible-core $core_version, $((SECONDS - started)) s: ${joined%, }")
done

echo
echo "== make test summary =="
printf '%s\n' "${summary[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
