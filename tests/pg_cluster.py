"""A throwaway PostgreSQL cluster for fault tests that stop and start the database (never the shared server).

``initdb`` a temporary folder, ``pg_ctl start`` it on a free port of 127.0.0.1 with its socket in that folder;
:meth:`ThrowawayCluster.stop` and :meth:`start` take it down and up while the bot runs; :meth:`remove` stops it
and deletes the folder. Where the binaries are missing, :func:`find_binaries` says why so the test skips.
PostgreSQL refuses to run as root: under root the cluster runs as the ``postgres`` user through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "pg_ctl").exists():
            return Path(out)
    return None


def find_binaries() -> tuple[Path, Path, list[str]] | str:
    """(initdb, pg_ctl, the prefix that runs them as an unprivileged user), or why a cluster cannot be made."""
    bindir = _bindir()
    if bindir is None:
        return "PostgreSQL binaries (pg_ctl, initdb) are not installed"
    initdb = shutil.which("initdb") or str(bindir / "initdb")
    if not Path(initdb).exists():
        return f"initdb is not in {bindir}"
    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run a cluster as"
        if runuser is None:
            return "running as root and runuser is missing"
        prefix = [runuser, "-u", "postgres", "--"]
    return Path(initdb), bindir / "pg_ctl", prefix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ThrowawayCluster:
    initdb: Path
    pg_ctl: Path
    prefix: list[str]
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pp-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=START_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}")

    def create(self) -> ThrowawayCluster:
        if self.prefix:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self._run(str(self.initdb), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        return self.start()

    def start(self) -> ThrowawayCluster:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.pg_ctl), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.pg_ctl), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the cluster if it runs, then delete its folder (a finalizer: never raises)."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.prefix, str(self.pg_ctl), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=START_TIMEOUT,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)
