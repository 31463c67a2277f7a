"""What one costly mail costs parse_mail: CPU time and peak memory, with and without the limits.

Each mail is parsed in a fresh Python process, so its peak resident memory is its own:

    .venv/bin/python bench/mail_parse.py            # the limits of a default config
    .venv/bin/python bench/mail_parse.py --no-limits  # as before the limits (slow: minutes)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "channels" / "email")]

from mails import deep_mail, large_attachment_mail, many_headers_mail, wide_mail  # noqa: E402

from channels.email.budget import MailLimits  # noqa: E402
from channels.email.parse import ParseContext, parse_mail  # noqa: E402

MAILS = {
    "3,000-deep MIME": lambda: deep_mail(3000),
    "20,000 parts": lambda: wide_mail(20000),
    "30 MB attachment": lambda: large_attachment_mail(30 * 1024 * 1024),
    "300,000 header fields": lambda: many_headers_mail(300_000),
    "17 MB attachment (within the limit)": lambda: large_attachment_mail(17 * 1024 * 1024),
}
UNLIMITED = MailLimits(max_bytes=2**62, max_depth=10**9, max_parts=10**9, max_headers=10**9)


def high_water_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited on exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: Path, limited: bool, data_dir: Path) -> dict:
    """Parse one mail from `path` in this process; report what it cost."""
    sys.setrecursionlimit(100_000)  # as deep as the mail goes, so the cost is measured whole
    raw = path.read_bytes()
    before = high_water_mb()
    ctx = ParseContext(
        account="aduan@kanal.test", data_dir=data_dir, limits=MailLimits() if limited else UNLIMITED
    )
    started = time.process_time()
    [item, *_] = parse_mail(raw, ctx)
    cpu = time.process_time() - started
    peak = high_water_mb()
    return {
        "bytes": len(raw),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(peak, 1),
        "parse_rss_mb": round(peak - before, 1),
        "kept_as": type(item).__name__,
        "parse_error": getattr(item, "parse_error", None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-limits", action="store_true", help="parse as before the limits")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as data_dir:
            print(json.dumps(child(args.child, not args.no_limits, Path(data_dir))))
        return
    limits = MailLimits()
    print(
        f"limits: {'none' if args.no_limits else ''}"
        f"{'' if args.no_limits else f'{limits.max_bytes:,} bytes, depth {limits.max_depth}, '}"
        f"{'' if args.no_limits else f'{limits.max_parts} parts'}"
    )
    print(f"{'mail':<37}{'bytes':>12}{'CPU s':>8}{'peak MB':>9}{'parse MB':>10}  kept with")
    with tempfile.TemporaryDirectory() as folder:
        for name, build in MAILS.items():
            path = Path(folder) / "mail.eml"
            path.write_bytes(build())
            command = [sys.executable, __file__, "--child", str(path)]
            if args.no_limits:
                command.append("--no-limits")
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{name:<37} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(done.stdout)
            print(
                f"{name:<37}{row['bytes']:>12,}{row['cpu_s']:>8}{row['peak_rss_mb']:>9}"
                f"{row['parse_rss_mb']:>10}  {row['parse_error'] or 'no problem'}"
            )


if __name__ == "__main__":
    main()
