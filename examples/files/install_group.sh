#!/bin/sh
# Stand-in for one group of the source note's library install: "installs" each named package
# into PREFIX (a marker file per package), then runs the note's 3-5 s post-install step.
# Prints "changed" when a package was new, so that changed_when can tell a real change; it prints
# before the post-install step, not after (see "Development" in the README).
# usage: install_group.sh PREFIX SECONDS PACKAGE...
set -eu
prefix="$1"; seconds="$2"; shift 2
mkdir -p "$prefix/site-packages"
state=unchanged
for package in "$@"; do
    if [ ! -e "$prefix/site-packages/$package" ]; then
        echo "$package" > "$prefix/site-packages/$package"
        state=changed
    fi
done
echo "$state: $*"
sleep "$seconds"
