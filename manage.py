#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import signal
import sys


def is_reloader_parent(argv: list[str]) -> bool:
    """Whether this is the process that `runserver` keeps only to restart its child.

    Django's reloader runs the server, and watches the files, in a child process started
    with DJANGO_AUTORELOAD_ENV set; the parent only starts that child again when it exits
    with code 3 (a file changed). Loading the whole site in the parent first, as
    execute_from_command_line would, doubles the cost of every start (most of a second
    of a first `make run`'s imports) for nothing it uses.
    """
    from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

    return (
        argv[1:2] == ["runserver"]
        and "--noreload" not in argv
        and not {"-h", "--help"} & set(argv)
        and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nullboard.settings")
    if is_reloader_parent(sys.argv):
        # What django.utils.autoreload.run_with_reloader does in the parent.
        from django.utils.autoreload import restart_with_reloader

        signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
        try:
            sys.exit(restart_with_reloader())
        except KeyboardInterrupt:  # Ctrl+C reaches the child too, which stops
            sys.exit(0)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
