"""main.py's command line run inside the test's process: the same argv, working folder, stdin,
stdout, stderr, log lines and exit code as `python main.py ...`, without the second or two a new
interpreter spends importing Kanal for each command."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import main


def run_main(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    argv = ["--config", str(config), *args]
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    # A new process starts with no log handler: main.py's basicConfig then writes to stderr.
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = []
    folder = os.getcwd()
    os.chdir(config.parent)
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _stdin(stdin),
        ):
            code = _exit_code(argv)
    finally:
        os.chdir(folder)
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved_handlers, saved_level
    return subprocess.CompletedProcess(["main.py", *argv], code, out.getvalue(), err.getvalue())


def _exit_code(argv: list[str]) -> int:
    try:
        return main.main(argv)
    except SystemExit as exit:  # argparse's usage errors, and the commands that stop with words
        if exit.code is None or isinstance(exit.code, int):
            return exit.code or 0
        print(exit.code, file=sys.stderr)
        return 1


@contextlib.contextmanager
def _stdin(text: str):
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved
