#!/usr/bin/env bash
# Install what the tests need from the system: OpenSSH's server and sudo for the loopback test
# hosts, shellcheck for ansible-test sanity, Chromium for the timeline screenshot test, and the
# unprivileged account the test hosts log in as (with passwordless sudo, so `become` is exercised
# as users run it). Needs root; does nothing that is already done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

test_user=ajtest
packages=()
[ -x /usr/sbin/sshd ] || packages+=(openssh-server)
command -v sudo >/dev/null || packages+=(sudo)
command -v shellcheck >/dev/null || packages+=(shellcheck)
command -v ssh-keygen >/dev/null || packages+=(openssh-client)
# headless Chromium renders the async_log timeline page in its screenshot test
command -v chromium >/dev/null || packages+=(chromium fonts-dejavu-core)

if [ "$(id -u)" != 0 ]; then
    [ ${#packages[@]} -eq 0 ] || die "missing system packages (${packages[*]}); install them as root: apt-get install -y ${packages[*]}"
    exit 0
fi

if [ ${#packages[@]} -gt 0 ]; then
    log "installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Keep the package from starting (or enabling) a system sshd: the tests run their own.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if ! id "$test_user" >/dev/null 2>&1; then
    log "creating the test account $test_user"
    useradd --create-home --shell /bin/bash "$test_user"
    usermod -p '*' "$test_user"   # no password, but not locked: sshd refuses locked accounts
fi
sudoers="/etc/sudoers.d/$test_user"
if [ ! -f "$sudoers" ]; then
    echo "$test_user ALL=(ALL) NOPASSWD: ALL" > "$sudoers"
    chmod 0440 "$sudoers"
fi
