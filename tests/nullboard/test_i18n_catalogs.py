"""The translation catalogs: complete, compiled, and true to their English.

Read with Python alone (no gettext tools): a fresh machine runs the site and the
tests from the committed .mo files, so a .po edited without recompiling fails here.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import to_locale

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [to_locale(code) for code, _name in settings.LANGUAGES if code != "en"]
DOMAINS = ("django", "djangojs")
# How many plural forms each language has (Django's own catalogs agree).
NPLURALS = {"fa": 2, "ar": 6, "ru": 4, "uk": 4, "zh_Hans": 1, "es": 3, "tr": 2}
_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')
_MARKUP = re.compile(r"<[^>]+>|%\([a-z_]+\)[sd]")


@dataclass
class Entry:
    """One message of a .po file."""

    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first (a small reader: gettext's syntax
    as makemessages writes it)."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry, last = Entry(), None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
            elif match := _LINE.match(line):
                last, text = match.group(1), ast.literal_eval(match.group(2))
                if last == "msgctxt":
                    entry.context = text
                elif last == "msgid":
                    entry.msgid = text
                elif last == "msgid_plural":
                    entry.plural = text
                else:
                    entry.msgstr.append(text)
            elif line.startswith('"') and last:
                text = ast.literal_eval(line)
                if last == "msgctxt":
                    entry.context = (entry.context or "") + text
                elif last == "msgid":
                    entry.msgid += text
                elif last == "msgid_plural":
                    entry.plural = (entry.plural or "") + text
                else:
                    entry.msgstr[-1] += text
        entries.append(entry)
    return entries


def catalog_files() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def messages(path: Path) -> list[Entry]:
    """A catalog's messages, without its header."""
    return [e for e in read_po(path) if e.msgid and not e.obsolete]


def english_msgids() -> list[str]:
    """Every English string the site marks for translation (the Persian catalog
    holds them all: makemessages writes the same entries for every language)."""
    found = []
    for domain in DOMAINS:
        path = LOCALE / "fa" / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            for entry in messages(path):
                found += [entry.msgid] + ([entry.plural] if entry.plural else [])
    return found


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(LOCALE)) for p in paths]


def test_every_language_has_its_catalog():
    for lang in LANGUAGES:
        assert (LOCALE / lang / "LC_MESSAGES" / "django.po").exists(), lang


@pytest.mark.parametrize("po", catalog_files(), ids=_ids(catalog_files()))
def test_the_compiled_catalog_matches_its_po(po):
    """The committed .mo says exactly what the .po says (run compilemessages)."""
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages"
    with mo.open("rb") as handle:
        compiled = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)  # the header
    expected: dict = {}
    for entry in messages(po):
        if entry.fuzzy or not entry.translated:
            continue  # msgfmt leaves these out
        key = entry.msgid if entry.context is None else f"{entry.context}\x04{entry.msgid}"
        if entry.plural is None:
            expected[key] = entry.msgstr[0]
        else:
            expected |= {(key, i): text for i, text in enumerate(entry.msgstr)}
    assert compiled == expected, f"{po} changed without its .mo: run manage.py compilemessages"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(lang):
    for po in sorted((LOCALE / lang / "LC_MESSAGES").glob("*.po")):
        left = [e.msgid for e in messages(po) if e.fuzzy or not e.translated]
        assert not left, f"{po}: {len(left)} untranslated or fuzzy, e.g. {left[:3]}"


@pytest.mark.parametrize("po", catalog_files(), ids=_ids(catalog_files()))
def test_the_header_names_the_language_and_its_plural_forms(po):
    lang = po.parent.parent.name
    header = read_po(po)[0]
    assert not header.fuzzy
    meta = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert meta["Language"] == lang
    assert meta["Content-Type"] == "text/plain; charset=UTF-8"
    nplurals = re.match(r"nplurals=(\d+);", meta["Plural-Forms"])
    assert nplurals and int(nplurals.group(1)) == NPLURALS[lang]
    for entry in messages(po):
        if entry.plural is not None:
            assert len(entry.msgstr) == NPLURALS[lang], entry.msgid


@pytest.mark.parametrize("po", catalog_files(), ids=_ids(catalog_files()))
def test_translations_keep_the_markup_and_placeholders(po):
    """A translation carries the same tags and %(name)s as its English, so the
    page's script hooks (data-countdown...) and values survive in every language."""
    for entry in messages(po):
        sources = [entry.msgid] + ([entry.plural] if entry.plural else [])
        for i, text in enumerate(entry.msgstr):
            if not text:
                continue
            source = sources[min(i, len(sources) - 1)]
            wanted = sorted(_MARKUP.findall(source))
            got = sorted(_MARKUP.findall(text))
            if entry.plural is not None:  # a singular may leave its count out
                wanted = [m for m in wanted if not m.startswith("%(")]
                got = [m for m in got if not m.startswith("%(")]
            assert got == wanted, f"{po}: {entry.msgid!r}"


def test_the_catalogs_hold_only_what_the_code_marks():
    """No entry is left over from a string the code no longer has."""
    for po in catalog_files():
        assert not [e for e in read_po(po) if e.obsolete], po
