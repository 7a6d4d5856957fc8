"""Recognise voice recordings by their bytes and read the duration their
container states, without any media library.

WebM (EBML) and Ogg carry Opus, MP4 carries AAC (Safari records MP4). A
browser's live recording often leaves the duration out; then the last
timestamp found is the floor of its length, and the byte cap does the rest.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

# Inspection is bounded in work and time: a real 60 s recording has a few thousand
# elements or boxes; a file built of tiny elements is refused, not walked.
MAX_ELEMENTS = 10_000
MAX_SECONDS = 0.01


@dataclass(frozen=True)
class AudioInfo:
    """What a recording is, and how long its container says it lasts."""

    mime: str
    seconds: float | None  # None: the container does not say


class AudioRejected(ValueError):
    """Not a voice recording we accept."""


def audio_inspect(data: bytes) -> AudioInfo:
    """The audio's type and stated duration; AudioRejected if it is not one we take."""
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return AudioInfo("audio/webm", _webm_seconds(data))
    if data[:4] == b"OggS":
        return AudioInfo("audio/ogg", _ogg_seconds(data))
    if data[4:8] == b"ftyp":
        return AudioInfo("audio/mp4", _mp4_seconds(data))
    raise AudioRejected("not WebM, Ogg or MP4 audio")


# --- WebM / Matroska ------------------------------------------------------------
_EBML_DOCTYPE = 0x4282
_SEGMENT, _INFO, _TRACKS, _TRACK_ENTRY = 0x18538067, 0x1549A966, 0x1654AE6B, 0xAE
_CLUSTER, _BLOCK_GROUP = 0x1F43B675, 0xA0
_TIMECODE_SCALE, _DURATION, _CODEC_ID = 0x2AD7B1, 0x4489, 0x86
_CLUSTER_TIMECODE, _SIMPLE_BLOCK, _BLOCK = 0xE7, 0xA3, 0xA1
_EBML_HEADER = 0x1A45DFA3
# Masters we step into; with an unknown size (live recordings) they run to the end.
_DESCEND = {_EBML_HEADER, _SEGMENT, _INFO, _TRACKS, _TRACK_ENTRY, _CLUSTER, _BLOCK_GROUP}


class _Budget:
    """Counts elements and time; AudioRejected once either runs out."""

    def __init__(self) -> None:
        self.count = 0
        self.deadline = time.perf_counter() + MAX_SECONDS

    def spend(self) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS or (
            not self.count % 512 and time.perf_counter() > self.deadline
        ):
            raise AudioRejected("too many parts for a voice recording")


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int, bool]:
    """An EBML variable-length integer: (value, next position, all-ones 'unknown')."""
    if pos >= len(data):
        raise AudioRejected("truncated WebM")
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise AudioRejected("malformed WebM")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, pos + length, unknown


def _webm_seconds(data: bytes) -> float | None:
    scale = 1_000_000  # ns per tick, Matroska's default
    duration: float | None = None
    doctype = codec = b""
    cluster_time = last_time = 0
    pos = 0
    budget = _Budget()
    while pos < len(data):
        budget.spend()
        try:
            ident, pos, _ = _vint(data, pos, keep_marker=True)
            size, pos, unknown = _vint(data, pos, keep_marker=False)
        except AudioRejected:
            break  # a recording cut short still says what it is
        if ident in _DESCEND:
            continue
        if unknown:
            break
        body = data[pos : pos + size]
        if ident == _EBML_DOCTYPE:
            doctype = body
        elif ident == _CODEC_ID:
            codec = body
        elif ident == _TIMECODE_SCALE:
            scale = int.from_bytes(body, "big") or scale
        elif ident == _DURATION and len(body) in (4, 8):
            duration = struct.unpack(">f" if len(body) == 4 else ">d", body)[0]
        elif ident == _CLUSTER_TIMECODE:
            cluster_time = int.from_bytes(body, "big")
            last_time = max(last_time, cluster_time)
        elif ident in (_SIMPLE_BLOCK, _BLOCK) and body:
            _, after, _ = _vint(body, 0, keep_marker=False)
            if after + 2 <= len(body):
                relative = struct.unpack(">h", body[after : after + 2])[0]
                last_time = max(last_time, cluster_time + relative)
        pos += size
    if doctype not in (b"webm", b"matroska"):
        raise AudioRejected("not a WebM file")
    if codec and codec != b"A_OPUS":
        raise AudioRejected("WebM audio must be Opus")
    ticks = max(duration or 0.0, float(last_time))
    return ticks * scale / 1e9 if ticks else None


# --- Ogg ---------------------------------------------------------------------------
def _ogg_seconds(data: bytes) -> float | None:
    head = data.find(b"OpusHead", 0, 4096)
    if head < 0 or len(data) < head + 12:
        raise AudioRejected("Ogg audio must be Opus")
    pre_skip: int = struct.unpack("<H", data[head + 10 : head + 12])[0]
    last = data.rfind(b"OggS")
    if last < 0 or len(data) < last + 14:
        return None
    granule: int = struct.unpack("<q", data[last + 6 : last + 14])[0]
    if granule <= 0:
        return None
    return max(granule - pre_skip, 0) / 48000  # Opus granules count 48 kHz samples


# --- MP4 -----------------------------------------------------------------------------
def _boxes(data: bytes, start: int, end: int, budget: _Budget) -> Iterator[tuple[bytes, int, int]]:
    pos = start
    while pos + 8 <= end:
        budget.spend()
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        pos += size


def _mp4_seconds(data: bytes) -> float | None:
    if b"mp4a" not in data:
        raise AudioRejected("MP4 audio must be AAC")
    budget = _Budget()
    for kind, start, end in _boxes(data, 0, len(data), budget):
        if kind != b"moov":
            continue
        for child, body, child_end in _boxes(data, start, end, budget):
            if child != b"mvhd" or child_end - body < 20:
                continue
            if data[body] == 1 and child_end - body >= 32:
                scale, length = struct.unpack(">IQ", data[body + 20 : body + 32])
            else:
                scale, length = struct.unpack(">II", data[body + 12 : body + 20])
            return length / scale if scale and length else None
    return None
