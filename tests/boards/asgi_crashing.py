"""The site's ASGI application with one way to crash a live socket (tests only).

A frame that is exactly ``crash`` raises out of the consumer, outside every
handler the consumer guards, as a bug would: the socket's exit path under test.
"""

from __future__ import annotations

from boards.consumers import FeedConsumer
from nullboard.asgi import application

__all__ = ["application"]

_receive = FeedConsumer.receive


async def _crashing_receive(self, text_data=None, bytes_data=None):
    if text_data == "crash":
        raise RuntimeError("crashed on purpose by the test")
    return await _receive(self, text_data=text_data, bytes_data=bytes_data)


FeedConsumer.receive = _crashing_receive
