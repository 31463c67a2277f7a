"""The Dovecot fixture skips on a developer machine without Dovecot and fails in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def run_without_dovecot(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv only: no dovecot on it
    if ci:
        env["CI"] = "1"
    test = (
        "tests/channels/email/test_email_poll.py"
        "::test_uidvalidity_change_duplicates_nothing[sqlite]"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(("ci", "outcome"), [(False, "1 skipped"), (True, "1 error")])
def test_missing_dovecot(ci: bool, outcome: str) -> None:
    result = run_without_dovecot(ci)
    assert outcome in result.stdout, result.stdout
    assert "dovecot is not installed (run .ci/install-dovecot.sh)" in result.stdout
    assert result.returncode == (1 if ci else 0)
