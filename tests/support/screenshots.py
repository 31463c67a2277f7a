"""Where browser tests put their pictures: docs/screenshots/ (the README shows them) only when
asked with KANAL_UPDATE_SCREENSHOTS=1, so a test run leaves the committed pictures alone;
otherwise the test's own temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot_folder(tmp_path: Path) -> Path:
    folder = DOCS if os.environ.get("KANAL_UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
