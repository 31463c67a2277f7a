"""Real `main.py serve` processes for tests: start, wait until healthy, read their health."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def kanal_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, str(REPO / "main.py"), "--config", str(config), *args]


def serve(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        kanal_command(config, "serve", "--port", str(port)),
        cwd=config.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def health(port: int) -> dict[str, Any] | None:
    """The process's /healthz answer, or None when it does not answer at all."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_healthy(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited during start-up"
        answer = health(port)
        if answer is not None and answer["status"] == "ok":
            return
        time.sleep(0.1)
    raise TimeoutError("server did not become healthy")
