"""WebSockets without permessage-deflate on Hypercorn.

Hypercorn (0.18) accepts permessage-deflate whenever a client offers it, and every
browser does; it has no setting to refuse it. Each socket then keeps its own zlib
stream (context takeover), so a fan-out compresses the same frame once per socket:
at 2,000 browser-like sockets the server's CPU per frame went from 28.6 to 83.5 µs,
p99 from 63 to 190 ms, and each socket's compressor holds 264 KiB. The frames are
mostly base64 ciphertext, which deflate barely shrinks. So the extension is
declined: the handshake answers without ``Sec-WebSocket-Extensions`` and frames
go out as they are (docs/scaling.md, "Live fan-out: where the time goes").
"""

from __future__ import annotations


def decline() -> None:
    """Make Hypercorn's WebSocket handshake decline permessage-deflate. Called where
    every worker imports the application (Hypercorn's own config module is read
    only by the parent when there are several workers); a no-op without Hypercorn
    (requirements/base.txt serves runserver with daphne)."""
    try:
        from hypercorn.protocol import ws_stream
    except ImportError:
        return
    from wsproto.extensions import PerMessageDeflate

    class DeclinedDeflate(PerMessageDeflate):
        """permessage-deflate, never agreed to (so never enabled on a connection)."""

        def accept(self, offer: str) -> None:
            return None

    # Looked up by name in each handshake (WSStream.handshake builds its list then).
    ws_stream.PerMessageDeflate = DeclinedDeflate  # type: ignore[attr-defined]
