"""Drops: self-destructing text and voice messages with three single-use keys.

Life of a drop: ``services.drop_create`` seals the content under a random data
key, wraps that key once per access key and stores only HMACs of the keys
(``store.DROP_KEY``), writes the QR image and, for voice, the sealed audio
(``media``). ``services.drop_open`` runs ``drop_open.lua``: check, mark used,
count, burn on the last view. Files of drops that run out of time are removed
by ``manage.py sweep_media`` (``sweep``).
"""
