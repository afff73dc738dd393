# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway OpenSSH servers on loopback, and inventories of hosts that point at them.

Used by the end-to-end tests (through the fixtures in ``conftest.py``) and by the benchmarks
(as a command: ``python tests/e2e/sshd_hosts.py --hosts 10 --dir /tmp/hosts``, which starts the
servers, writes ``inventory.ini`` and waits until it is interrupted).

Everything lives in one temporary directory: host keys, the client key, ``authorized_keys``,
``known_hosts`` and the server configuration. Neither ``~/.ssh`` nor the system's sshd
configuration is read or written. Each inventory host has its own 127.0.0.x address; one
``sshd`` listens on at most 16 of them (its limit of listening sockets), so large inventories
get several servers.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")
SFTP_CANDIDATES = ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server")
# The unprivileged account the tests log in as when they run as root; scripts/install-test-deps.sh
# creates it with passwordless sudo, so that `become` is exercised as users run it.
TEST_USER = "ajtest"
TARGET_PYTHON = "/usr/bin/python3"
ADDRESSES_PER_SERVER = 16
INSTALL_HINT = (
    "OpenSSH's server (sshd) was not found. Install it with "
    "'apt-get install -y openssh-server sudo' (or run scripts/install-test-deps.sh as root), then rerun the tests."
)


class SshdUnavailable(RuntimeError):
    """sshd, or the account the tests log in as, is missing on this machine."""


def find_sshd():
    for candidate in SSHD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("sshd")
    if found:
        return found
    raise SshdUnavailable(INSTALL_HINT)


def login_user():
    """The account the test hosts are logged into: a dedicated one under root, else oneself."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        raise SshdUnavailable(
            "The test account %r does not exist. Run scripts/install-test-deps.sh as root to create it." % TEST_USER
        ) from None
    return TEST_USER


def free_port(address="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def _children_of(pid):
    """Every live descendant of pid, found through /proc (sshd's per-connection children
    call setsid(), so a process-group kill would miss them)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_tree(pid):
    for victim in [pid] + _children_of(pid):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


class SshHosts:
    """A set of loopback SSH hosts. Use as a context manager, or call start() and stop()."""

    def __init__(self, count, directory=None):
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count = count
        self._own_directory = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="async-jobs-sshd-")
        self.user = login_user()
        self.sshd = find_sshd()
        self.servers = []  # (process, port, [addresses])
        self.hosts = []  # (name, address, port)
        self.client_key = os.path.join(self.directory, "client_ed25519")
        self.known_hosts = os.path.join(self.directory, "known_hosts")
        self.control_dir = os.path.join(self.directory, "cp")

    # -- set-up -------------------------------------------------------------------------------
    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        # sshd reads authorized_keys as the logged-in user, so the directory must be traversable.
        os.chmod(self.directory, 0o755)
        os.makedirs(self.control_dir, mode=0o700, exist_ok=True)
        host_key = os.path.join(self.directory, "host_ed25519")
        for key in (host_key, self.client_key):
            if not os.path.exists(key):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "async-jobs-test", "-f", key], check=True)
        authorized = os.path.join(self.directory, "authorized_keys")
        shutil.copyfile(self.client_key + ".pub", authorized)
        os.chmod(authorized, 0o644)
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory

        with open(host_key + ".pub") as pub:
            host_pub = " ".join(pub.read().split()[:2])
        addresses = ["127.0.0.%d" % (index + 2) for index in range(self.count)]
        known = []
        try:
            for first in range(0, self.count, ADDRESSES_PER_SERVER):
                chunk = addresses[first:first + ADDRESSES_PER_SERVER]
                port = free_port()
                self.servers.append((self._start_server(len(self.servers), chunk, port, host_key, authorized), port, chunk))
                known.extend("[%s]:%d %s" % (address, port, host_pub) for address in chunk)
            with open(self.known_hosts, "w") as known_file:
                known_file.write("\n".join(known) + "\n")
            for process, port, chunk in self.servers:
                for address in chunk:
                    self._wait_listening(process, address, port)
                    self.hosts.append(("host%02d" % (len(self.hosts) + 1), address, port))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self, index, addresses, port, host_key, authorized):
        sftp = next((path for path in SFTP_CANDIDATES if os.path.exists(path)), "internal-sftp")
        config = os.path.join(self.directory, "sshd_config.%d" % index)
        lines = ["ListenAddress %s:%d" % (address, port) for address in addresses] + [
            "HostKey %s" % host_key,
            "PidFile %s" % os.path.join(self.directory, "sshd.%d.pid" % index),
            "AuthorizedKeysFile %s" % authorized,
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            # The key files live under the world-writable temp dir, which StrictModes refuses.
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "AllowUsers %s" % self.user,
            # ansible opens many connections at once; sshd's default of 10 unauthenticated ones drops some.
            "MaxStartups 200:30:400",
            "MaxSessions 200",
            "LogLevel ERROR",
            "Subsystem sftp %s" % sftp,
        ]
        with open(config, "w") as config_file:
            config_file.write("\n".join(lines) + "\n")
        log = open(os.path.join(self.directory, "sshd.%d.log" % index), "ab")
        with log:
            return subprocess.Popen([self.sshd, "-D", "-e", "-f", config], stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def _wait_listening(self, process, address, port, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("sshd exited with %s; see %s" % (process.returncode, self.directory))
            try:
                with socket.create_connection((address, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen on %s:%d within %ss" % (address, port, timeout))

    # -- inventory ----------------------------------------------------------------------------
    def connection_vars(self):
        return {
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": self.client_key,
            "ansible_ssh_common_args": "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes" % self.known_hosts,
            "ansible_python_interpreter": TARGET_PYTHON,
        }

    def write_inventory(self, path, count=None, group="targets", host_vars=None):
        """Write an INI inventory of the first `count` hosts (all by default) in `group`."""
        chosen = self.hosts[: count or len(self.hosts)]
        if count and count > len(self.hosts):
            raise ValueError("only %d hosts were started, %d asked for" % (len(self.hosts), count))
        lines = ["[%s]" % group]
        for name, address, port in chosen:
            extra = "".join(" %s=%s" % (key, _ini_value(value)) for key, value in sorted((host_vars or {}).get(name, {}).items()))
            lines.append("%s ansible_host=%s ansible_port=%d%s" % (name, address, port, extra))
        lines += ["", "[%s:vars]" % group]
        lines += ["%s=%s" % (key, _ini_value(value)) for key, value in sorted(self.connection_vars().items())]
        with open(path, "w") as inventory:
            inventory.write("\n".join(lines) + "\n")
        return path

    # -- tear-down ----------------------------------------------------------------------------
    def stop(self):
        # Control masters first (they hold sshd sessions open), then each server with every
        # session it forked.
        for master in self._control_masters():
            _kill_tree(master)
        for process, _port, _chunk in self.servers:
            _kill_tree(process.pid)
            process.wait(timeout=10)
        self.servers = []
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _control_masters(self):
        masters = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as cmdline:
                    text = cmdline.read()
            except OSError:
                continue
            if self.control_dir.encode() in text or self.known_hosts.encode() in text:
                masters.append(int(entry))
        return masters

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _ini_value(value):
    return "'%s'" % value if " " in str(value) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=5, help="number of inventory hosts")
    parser.add_argument("--dir", required=True, help="directory for keys, configuration and inventory.ini")
    args = parser.parse_args(argv)
    try:
        hosts = SshHosts(args.hosts, directory=args.dir).start()
    except SshdUnavailable as error:
        sys.exit(str(error))
    inventory = hosts.write_inventory(os.path.join(args.dir, "inventory.ini"))
    print(inventory, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        hosts.stop()


if __name__ == "__main__":
    main()
