"""Drops: self-destructing text and voice messages with three single-use keys.

Life of a drop: the browser (``static/drops/seal.js``) or, without JavaScript,
``services.drop_create`` seals the content in format v1 (``sealing``): a random
data key, wrapped once per access key, and a verifier per key, of which Redis
keeps only an HMAC (``store.DROP_KEY``). ``services.drop_store`` reserves the id,
writes the QR image and, for voice, the sealed audio (``media``), then saves all
in one script. ``services.drop_open`` runs ``drop_open.lua``: check the verifier,
mark used, count, burn on the last view, issue the audio ticket; only wrong
verifiers are counted and throttled. Files of drops that run out of time are
removed by ``manage.py sweep_media`` (``sweep``).
"""
