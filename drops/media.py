"""Drop files through Django's storage API: sealed voice notes and QR images.

File names carry the drop id only, so the sweeper can tell whether a file's
drop still lives; the id is in the link anyway and opens nothing.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

import qrcode
import qrcode.base
import qrcode.constants
import qrcode.exceptions
import qrcode.util
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from drops import repository

# The shape of a drop id (12 random bytes in URL-safe base64, made by the server or the
# browser); services and selectors check it too, always with fullmatch.
DROP_ID = re.compile(r"[A-Za-z0-9_-]{16}")

VOICE_DIR = "voice"
QR_DIR = "qr"
VOICE_SUFFIX = ".sealed"
QR_SUFFIX = ".svg"


def storage() -> Storage:
    """The storage drops' files live in (site-wide operations ask for it)."""
    return default_storage


def voice_name(drop_id: str) -> str:
    """Where a drop's sealed voice note lives in the storage."""
    return f"{VOICE_DIR}/{drop_id}{VOICE_SUFFIX}"


def qr_name(drop_id: str) -> str:
    """Where a drop's QR image lives in the storage."""
    return f"{QR_DIR}/{drop_id}{QR_SUFFIX}"


def drop_id_of(filename: str) -> str | None:
    """The drop id a stored file belongs to, or None for a stranger (left alone)."""
    for suffix in (VOICE_SUFFIX, QR_SUFFIX):
        stem = filename.removesuffix(suffix)
        if filename.endswith(suffix) and DROP_ID.fullmatch(stem):
            return stem
    return None


def _write(name: str, data: bytes) -> int:
    # The caller counts the bytes in the same script that stores the drop, so a
    # failed save leaves neither a file nor a drifted count.
    default_storage.delete(name)  # never let the storage pick another name
    default_storage.save(name, ContentFile(data))
    return len(data)


def voice_write(*, drop_id: str, sealed: bytes) -> int:
    """Store a sealed voice note (already encrypted); its size, not yet counted."""
    return _write(voice_name(drop_id), sealed)


def voice_read(*, drop_id: str) -> bytes | None:
    """The sealed voice note, or None once it is gone."""
    try:
        with default_storage.open(voice_name(drop_id), "rb") as handle:
            sealed: bytes = handle.read()
            return sealed
    except FileNotFoundError:
        return None


def qr_svg(link: str) -> bytes:
    """An SVG QR code of ``link`` (the drop's address, never a key).

    The matrix comes from ``qrcode``; the SVG is drawn here, one path of row runs,
    because the library's SVG image classes cost about four times the encoding.
    """
    matrix = _qr_matrix(link)  # border included
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        for dark, group in itertools.groupby(row):  # runs found in C, not per module
            width = len(list(group))
            if dark:
                runs.append(f"M{x} {y}h{width}v1h-{width}z")
            x += width
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size * 4}" height="{size * 4}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    ).encode()


# Links of one length (one site, ids of one shape) take one QR version: found once by
# qrcode's best fit, then given, which skips the fit's trial encoding. With the
# version known the codewords are computed here (qrcode's create_data, with the
# Reed-Solomon step on log tables: it was half the encoding, in Python calls per
# coefficient) and handed to qrcode as its data cache, which it then lays out and
# masks. A link that does not fit the version given is fitted afresh.
_versions: dict[int, int] = {}
_EC_LEVEL = qrcode.constants.ERROR_CORRECT_M


class _QRCode(qrcode.QRCode[Any]):  # type: ignore[misc]  # qrcode is untyped here
    """qrcode's QRCode, laying its data out by a per-version list of the data cells
    (qrcode's map_data walks the matrix and calls the mask function per cell,
    about 570 calls a link; the cells and their mask do not change with the data)."""

    def map_data(self, data: list[int], mask_pattern: int) -> None:
        cells = _data_cells(self.version, mask_pattern, self.modules)
        size = len(cells)
        bits = format(int.from_bytes(bytes(data), "big"), f"0{8 * len(data)}b")[:size]
        bits += "0" * (size - len(bits))  # remainder bits: light before the mask
        modules = self.modules
        for (row, col, masked), bit in zip(cells, bits, strict=True):
            modules[row][col] = (bit == "1") != masked


_cells: dict[tuple[int, int], list[tuple[int, int, bool]]] = {}


def _data_cells(
    version: int, mask_pattern: int, modules: list[list[bool | None]]
) -> list[tuple[int, int, bool]]:
    """The data cells of a version in qrcode's placement order (map_data's walk:
    column pairs from the right, up and down in turn), each with its mask bit."""
    found = _cells.get((version, mask_pattern))
    if found is not None:
        return found
    mask = qrcode.util.mask_func(mask_pattern)
    count = len(modules)
    cells, row, step = [], count - 1, -1
    for col in range(count - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if modules[row][c] is None:
                    cells.append((row, c, bool(mask(row, c))))
            row += step
            if row < 0 or row >= count:
                row -= step
                step = -step
                break
    return _cells.setdefault((version, mask_pattern), cells)


def _qr_code(version: int | None = None) -> qrcode.QRCode[Any]:
    # A fixed mask skips scoring all eight (two thirds of the time); any mask is valid.
    return _QRCode(version=version, error_correction=_EC_LEVEL, border=2, mask_pattern=2)


def _qr_matrix(link: str) -> list[list[bool]]:
    version = _versions.get(len(link))
    if version is None:
        return _qr_fitted(link)
    code = _qr_code(version)
    code.add_data(link)
    try:
        code.data_cache = _codewords(version, code.data_list)
    except qrcode.exceptions.DataOverflowError:
        return _qr_fitted(link)
    code.make(fit=False)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _qr_fitted(link: str) -> list[list[bool]]:
    code = _qr_code()
    code.add_data(link)
    code.make(fit=True)
    _versions.setdefault(len(link), code.version)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _codewords(version: int, data_list: list[qrcode.util.QRData]) -> list[int]:
    """qrcode.util.create_data: the data codewords, padded, then the interleaved
    data and error-correction codewords of each block."""
    blocks = qrcode.base.rs_blocks(version, _EC_LEVEL)
    bit_limit = sum(block.data_count * 8 for block in blocks)
    codewords = _data_codewords(version, data_list, bit_limit)
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        data_block = codewords[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(data_block)
        ec_blocks.append(_ec_codewords(data_block, block.total_count - block.data_count))
    return _interleaved(data_blocks) + _interleaved(ec_blocks)


def _data_codewords(version: int, data_list: list[qrcode.util.QRData], bit_limit: int) -> list[int]:
    """The data codewords, terminated and padded to ``bit_limit`` bits. A link is
    byte-mode data: its bits are built as one integer (qrcode's BitBuffer costs a
    Python call per bit, about 400 a link); other modes go through the BitBuffer."""
    if any(data.mode != qrcode.util.MODE_8BIT_BYTE for data in data_list):
        return _buffered_codewords(version, data_list, bit_limit)
    value = bits = 0
    for data in data_list:
        length_bits = qrcode.util.length_in_bits(data.mode, version)
        value = (value << 4 | data.mode) << length_bits | len(data.data)
        value = value << 8 * len(data.data) | int.from_bytes(data.data, "big")
        bits += 4 + length_bits + 8 * len(data.data)
    if bits > bit_limit:
        raise qrcode.exceptions.DataOverflowError
    filler = min(bit_limit - bits, 4)  # terminator
    filler += -(bits + filler) % 8  # to a whole byte
    bits += filler
    codewords = list((value << filler).to_bytes(bits // 8, "big"))
    pads = range(bit_limit // 8 - len(codewords))
    return codewords + [qrcode.util.PAD1 if i % 2 else qrcode.util.PAD0 for i in pads]


def _buffered_codewords(
    version: int, data_list: list[qrcode.util.QRData], bit_limit: int
) -> list[int]:
    buffer = qrcode.util.BitBuffer()
    for data in data_list:
        buffer.put(data.mode, 4)
        buffer.put(len(data), qrcode.util.length_in_bits(data.mode, version))
        data.write(buffer)
    if len(buffer) > bit_limit:
        raise qrcode.exceptions.DataOverflowError
    for _ in range(min(bit_limit - len(buffer), 4)):  # terminator
        buffer.put_bit(False)
    for _ in range(-len(buffer) % 8):  # to a whole byte
        buffer.put_bit(False)
    for i in range((bit_limit - len(buffer)) // 8):
        buffer.put(qrcode.util.PAD1 if i % 2 else qrcode.util.PAD0, 8)
    return [0xFF & b for b in buffer.buffer]


def _interleaved(blocks: list[list[int]]) -> list[int]:
    longest = max(len(block) for block in blocks)
    return [block[i] for i in range(longest) for block in blocks if i < len(block)]


# GF(256) with QR's polynomial x^8 + x^4 + x^3 + x^2 + 1: exp and log tables.
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i], _LOG[_x] = _x, _i
    _x = (_x << 1) ^ (0x11D if _x & 0x80 else 0)
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


@functools.cache
def _generator_logs(count: int) -> tuple[int, ...]:
    """Logs of the Reed-Solomon generator's coefficients after the leading 1:
    the product of (x + a^i) for i below ``count``."""
    poly = [1]
    for i in range(count):
        nxt = poly + [0]
        for j, coefficient in enumerate(poly):
            if coefficient:
                nxt[j + 1] ^= _EXP[_LOG[coefficient] + i]
        poly = nxt
    return tuple(_LOG[c] for c in poly[1:])


def _ec_codewords(data: list[int], count: int) -> list[int]:
    """The remainder of data(x) * x^count divided by the generator: ``count`` bytes."""
    logs = _generator_logs(count)
    remainder = [0] * count
    for byte in data:
        factor = byte ^ remainder[0]
        del remainder[0]
        remainder.append(0)
        if factor:
            shift = _LOG[factor]
            for j, log in enumerate(logs):
                remainder[j] ^= _EXP[shift + log]
    return remainder


def qr_store(*, drop_id: str, svg: bytes) -> int:
    """Write a drop's QR image (made by qr_svg); its size, not yet counted."""
    return _write(qr_name(drop_id), svg)


def qr_read(*, drop_id: str) -> bytes | None:
    """The QR image, or None once it is gone."""
    try:
        with default_storage.open(qr_name(drop_id), "rb") as handle:
            svg: bytes = handle.read()
            return svg
    except FileNotFoundError:
        return None


def file_size(name: str) -> int:
    """Bytes of a stored file; 0 if it is not there."""
    try:
        return default_storage.size(name)
    except FileNotFoundError:
        return 0


def files_delete(names: list[str]) -> int:
    """Delete files that exist; return the bytes freed."""
    freed = 0
    for name in names:
        size = file_size(name)
        if size or default_storage.exists(name):
            default_storage.delete(name)
            freed += size
    if freed:
        repository.media_bytes_sub(amount=freed)
    return freed


def storage_is_local() -> bool:
    """Whether files go to this machine's disk (Django's FileSystemStorage): a QR
    image's write there takes tens of microseconds, less than a hop to a worker
    thread (about 1 ms of CPU per create, measured); an object store's is a network
    request, which must not block the event loop."""
    return isinstance(default_storage, FileSystemStorage)


def files_discard(names: list[str]) -> None:
    """Delete files of a drop that was never stored (they were never counted)."""
    for name in names:
        default_storage.delete(name)


def drop_files(drop_id: str) -> list[str]:
    """Every file a drop may own."""
    return [voice_name(drop_id), qr_name(drop_id)]
