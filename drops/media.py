"""Drop files through Django's storage API: sealed voice notes and QR images.

File names carry the drop id only, so the sweeper can tell whether a file's
drop still lives; the id is in the link anyway and opens nothing.
"""

from __future__ import annotations

import itertools
import re

import qrcode
import qrcode.constants
import qrcode.exceptions
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage

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
# qrcode's best fit, then given, which skips the fit's trial encoding (a fifth of the
# time). A link that does not fit the version given is fitted afresh.
_versions: dict[int, int] = {}


def _qr_matrix(link: str) -> list[list[bool]]:
    # A fixed mask skips scoring all eight (two thirds of the time); any mask is valid.
    version = _versions.get(len(link))
    code = qrcode.QRCode(
        version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=2
    )
    code.add_data(link)
    try:
        code.make(fit=version is None)
    except qrcode.exceptions.DataOverflowError:
        return _qr_fitted(link)
    _versions.setdefault(len(link), code.version)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _qr_fitted(link: str) -> list[list[bool]]:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=2
    )
    code.add_data(link)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def qr_write(*, drop_id: str, link: str) -> int:
    """Write the QR image of the drop's link; its size, not yet counted."""
    return _write(qr_name(drop_id), qr_svg(link))


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


def files_discard(names: list[str]) -> None:
    """Delete files of a drop that was never stored (they were never counted)."""
    for name in names:
        default_storage.delete(name)


def drop_files(drop_id: str) -> list[str]:
    """Every file a drop may own."""
    return [voice_name(drop_id), qr_name(drop_id)]
