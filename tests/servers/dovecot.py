"""A private Dovecot IMAP server for the test session, on a free port, with one test user."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from support.local_server import free_port

USER = "aduan@kanal.test"
PASSWORD = "rahasia-uji"

_CONFIG = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/Maildir
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    """A running private Dovecot; `stop()` and `start()` simulate a server restart."""

    directory: Path
    port: int
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD

    @property
    def config(self) -> Path:
        return self.directory / "dovecot.conf"

    def start(self) -> None:
        # The daemon keeps inherited pipes open, so its output must not be a pipe.
        subprocess.run(
            ["dovecot", "-c", str(self.config)], check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)  # waiting for the server's own start-up, not for test timing
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        """Stop the master and drop every open session, as a crash or a reboot would.

        Without the second step Dovecot's orphaned imap processes keep IDLE sessions alive for
        about 30 s after the master is gone.
        """
        subprocess.run(
            ["dovecot", "-c", str(self.config), "stop"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
            except OSError:
                if not (self.directory / "run" / "master.pid").exists():
                    _kill_session_processes(self.port)
                    return
            time.sleep(0.05)
        raise RuntimeError("dovecot did not stop")

    def log(self, tail: int | None = 4000) -> str:
        """The server's log, its last `tail` characters by default, all of it with None."""
        path = self.directory / "dovecot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-tail:] if tail else text

    def client(self) -> IMAPClient:
        imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def new_folder(self) -> str:
        """A fresh, empty folder for one test, so tests never see each other's mail."""
        name = f"t{uuid.uuid4().hex[:12]}"
        with self.client() as imap:
            imap.create_folder(name)
        return name

    def append(self, folder: str, raw: bytes) -> None:
        with self.client() as imap:
            imap.append(folder, raw)

    def recreate(self, folder: str) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        with self.client() as imap:
            imap.delete_folder(folder)
            imap.create_folder(folder)


def _server_socket_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _kill_session_processes(port: int) -> None:
    """Kill, by pid, the processes still holding server-side connections on our port."""
    inodes = {f"socket:[{inode}]" for inode in _server_socket_inodes(port)}
    if not inodes:
        return
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            held = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if held & inodes and int(proc.name) != os.getpid():
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _setup(directory: Path, port: int) -> Dovecot:
    owner = pwd.getpwnam("dovecot")
    directory.chmod(0o755)
    mail = directory / "mail"
    mail.mkdir()
    os.chown(mail, owner.pw_uid, owner.pw_gid)
    line = f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{mail}\n"
    (directory / "passwd").write_text(line)
    config = _CONFIG.format(d=directory, uid=owner.pw_uid, port=port)
    (directory / "dovecot.conf").write_text(config)
    return Dovecot(directory=directory, port=port)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot for the whole session; skipped locally when missing, a failure in CI."""
    if shutil.which("dovecot") is None:
        message = "dovecot is not installed (run .ci/install-dovecot.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="kanal-dovecot-"))
    server = _setup(directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    """The name of an empty folder of the test user, new for each test."""
    return dovecot.new_folder()
