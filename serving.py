"""Where this data dir's `serve` processes listen, so other commands (`simulate`) can point at
them: each process leaves a small file under `data_dir/serving/` while it runs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

# An address bound on every interface is browsed through the local one.
_ANY = {"0.0.0.0", "::", ""}


def browse_url(host: str, port: int) -> str:
    """The address a person on this machine opens for a server bound to host:port."""
    host = "127.0.0.1" if host in _ANY else host
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


@contextlib.contextmanager
def announced(data_dir: Path, host: str, port: int) -> Iterator[None]:
    """Announce this process' address while the block runs."""
    folder = data_dir / "serving"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.url"
    path.write_text(browse_url(host, port), encoding="utf-8")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def serving_urls(data_dir: Path) -> list[str]:
    """The addresses of the `serve` processes running on this data dir (files left by a
    process that died without cleaning up are skipped and removed)."""
    urls = []
    for path in sorted((data_dir / "serving").glob("*.url")):
        if _alive(int(path.stem)) if path.stem.isdigit() else False:
            urls.append(path.read_text(encoding="utf-8").strip())
        else:
            path.unlink(missing_ok=True)
    return sorted(set(urls))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
