"""Django's makemessages, also finding the front end's t(), nt() and pt()
(static/js/i18n.js), so scripts mark strings with short names."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=t",
        "--keyword=nt:1,2",
        "--keyword=pt:1c,2",
    ]
