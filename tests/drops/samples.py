"""Hand-built minimal recordings: just enough container for the sniffer."""

from __future__ import annotations

import struct


def _ebml(ident: int, payload: bytes) -> bytes:
    size = b"\x01" + len(payload).to_bytes(7, "big")
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + size + payload


def webm(seconds: float, *, stated: bool = True, codec: bytes = b"A_OPUS") -> bytes:
    """WebM/Opus; ``stated`` puts the duration in Info, else only cluster times tell."""
    info = _ebml(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    if stated:
        info += _ebml(0x4489, struct.pack(">d", seconds * 1000))
    clusters = b""
    for tc in range(0, int(seconds * 1000) + 1, 5000):
        block = b"\x81" + struct.pack(">h", 0) + b"\x80" + b"\xfc" * 40
        clusters += _ebml(0x1F43B675, _ebml(0xE7, tc.to_bytes(4, "big")) + _ebml(0xA3, block))
    segment = (
        _ebml(0x1549A966, info) + _ebml(0x1654AE6B, _ebml(0xAE, _ebml(0x86, codec))) + clusters
    )
    header = _ebml(0x1A45DFA3, _ebml(0x4282, b"webm"))
    # A live recording: the Segment's size is "unknown" (all ones).
    return header + b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + segment


def _ogg_page(granule: int, body: bytes, sequence: int) -> bytes:
    header = b"OggS\x00\x00" + struct.pack("<qIII", granule, 1, sequence, 0)
    return header + bytes([1, len(body)]) + body


def ogg(seconds: float) -> bytes:
    """Ogg/Opus whose last page's granule position says ``seconds``."""
    head = b"OpusHead\x01\x01" + struct.pack("<HIhB", 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    pages = _ogg_page(0, head, 0) + _ogg_page(0, tags, 1)
    pages += _ogg_page(int(seconds * 48000) + 312, b"\xfc" * 60, 2)
    return pages


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4(seconds: float) -> bytes:
    """MP4/AAC with an mvhd that says ``seconds``."""
    mvhd = struct.pack(">IIIII", 0, 0, 0, 1000, int(seconds * 1000)) + b"\x00" * 80
    trak = _box(b"trak", _box(b"stsd", _box(b"mp4a", b"\x00" * 28)))
    return (
        _box(b"ftyp", b"M4A \x00\x00\x00\x00M4A isom")
        + _box(b"moov", _box(b"mvhd", mvhd) + trak)
        + _box(b"mdat", b"\x21" * 200)
    )
