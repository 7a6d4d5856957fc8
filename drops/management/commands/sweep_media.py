"""Delete voice files and QR images whose drop is gone.

Redis forgets an expired drop by itself; the disk does not. A burned drop's
files go at once, but drops that simply run out of time leave files behind,
and a crash can orphan a file. Run it in a loop as the Procfile's sweeper.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from drops.sweep import SweepReport, media_sweep


class Command(BaseCommand):
    """The operator command; the work is in drops.sweep."""

    help = "Delete voice files and QR images whose drop is gone (expired, burned or orphaned)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )
        parser.add_argument(
            "--loop", action="store_true", help="Keep sweeping until SIGTERM or Ctrl+C."
        )
        parser.add_argument(
            "--interval", type=int, default=30, help="Seconds between passes with --loop."
        )
        parser.add_argument(
            "--grace",
            type=int,
            default=settings.DROP_SWEEP_GRACE_SECONDS,
            help="Leave files with no drop alone until they are this many seconds old.",
        )

    def handle(
        self, *args: Any, dry_run: bool, loop: bool, interval: int, grace: int, **options: Any
    ) -> None:
        self.verbosity = options["verbosity"]
        if not loop:
            self.report(media_sweep(now=time.time(), grace=grace, dry_run=dry_run), dry_run)
            return
        stop = threading.Event()

        def finish(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, finish) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if self.verbosity >= 1:
                self.stdout.write(f"Sweeping every {interval}s; SIGTERM stops.")
            while not stop.is_set():
                report = media_sweep(now=time.time(), grace=grace, dry_run=dry_run)
                self.report(report, dry_run, quiet_when_idle=True)
                stop.wait(max(interval, 1))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.verbosity >= 1:
            self.stdout.write(self.style.SUCCESS("Stopped."))

    def report(self, report: SweepReport, dry_run: bool, quiet_when_idle: bool = False) -> None:
        if report.locked_out:
            if self.verbosity >= 1:
                self.stdout.write(self.style.NOTICE("Another sweeper is at work; skipped."))
            return
        if not report.removed:
            if self.verbosity >= 2 or (self.verbosity >= 1 and not quiet_when_idle):
                self.stdout.write("Nothing to do.")
            return
        verb = "Would remove" if dry_run else "Removed"
        if dry_run or self.verbosity >= 2:
            for name, size in report.removed:
                self.stdout.write(f"{verb} {name} ({size} bytes)")
        if self.verbosity >= 1:
            voice, qr = report.count("voice"), report.count("qr")
            summary = (
                f"{verb} {len(report.removed)} files ({voice} voice, {qr} QR), "
                f"{report.bytes} bytes."
            )
            style = self.style.NOTICE if dry_run else self.style.SUCCESS
            self.stdout.write(style(summary))
