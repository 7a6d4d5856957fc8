"""Languages: chosen from Accept-Language or the menu, right to left for Persian,
and no English left on any page a visitor can reach."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from boards import services as boards
from tests.boards.helpers import make_post
from tests.conftest import ROOT
from tests.drops.helpers import create_text
from tests.nullboard.test_i18n_catalogs import LOCALE, english_msgids, messages

PERSIAN = re.compile(r"[\u0600-\u06FF]")
# Latin words that stay in Persian text: names and codes, not English prose.
KEPT = {"UTC", "QR", "IP", "Nullboard"}


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes (hidden ones too, which scripts
    reveal) and the attributes read aloud or shown, outside scripts and styles."""

    SPOKEN = ("aria-label", "title", "alt", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [value for name, value in attrs if name in self.SPOKEN and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_fragments() -> list[str]:
    """The English of every marked string, cut at tags and placeholders into the
    pieces a page would show, keeping those with a real English word in them."""
    pieces = set()
    for msgid in english_msgids():
        for piece in re.split(r"<[^>]+>|%\([a-z_]+\)[sd]", msgid):
            piece = piece.strip(" .,:;()#←")
            words = re.findall(r"[A-Za-z]{2,}", piece)
            if words and not set(words) <= KEPT:
                pieces.add(piece)
    return sorted(pieces, key=len, reverse=True)


def english_left(html: str) -> list[str]:
    text = visible_text(html)
    return [
        p for p in english_fragments() if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)
    ]


def page_urls(client: Client) -> dict[str, tuple[str, str, dict | None]]:
    """Every page and state a visitor can reach: name -> (method, path, form)."""
    post = make_post(topic="news")
    boards.comment_create(post_id=post["id"], blob=post["blob"], author="loud-cat-4321")
    room = boards.room_create()["room"]
    kdf = {
        "v": 1,
        "alg": "PBKDF2-SHA256",
        "iterations": 600_000,
        "salt": "A" * 22 + "==",
        "link": False,
    }
    passphrase_room = boards.room_create(key_check="1", kdf=kdf)["room"]
    room_post = make_post(room=room)
    hidden = make_post(topic="culture")
    boards.post_hide(post_id=hidden["id"], reason="spam")
    drop = create_text(client)
    burned = create_text(client)
    last = create_text(client, max_views=1)
    guarded = create_text(client, passphrase="correct horse battery staple")
    return {
        "home": ("get", "/", None),
        "topic": ("get", "/topic/news", None),
        "room": ("get", f"/r/{room}", None),
        "passphrase room": ("get", f"/r/{passphrase_room}", None),
        "post": ("get", f"/post/{post['id']}", None),
        "room post": ("get", f"/post/{room_post['id']}", None),
        "hidden post": ("get", f"/post/{hidden['id']}", None),
        "trending": ("get", "/trending", None),
        "my rooms": ("get", "/rooms", None),
        "new drop": ("get", "/drops/new", None),
        "share (no JS)": ("post", "/drops/new", {"text": "hello", "ttl_seconds": "3600"}),
        "key form": ("get", f"/d/{drop['id']}", None),
        "wrong key": ("post", f"/d/{drop['id']}", {"key": "AAAA-AAAA"}),
        "key form, passphrase": ("get", f"/d/{guarded['id']}", None),
        "opened": ("post", f"/d/{drop['id']}", {"key": drop["keys"][0]}),
        "opened, last view": ("post", f"/d/{last['id']}", {"key": last["keys"][0]}),
        "gone": ("get", "/d/AAAAAAAAAAAAAAAA", None),
        "receipt": ("get", drop["receipt_url"], None),
        "receipt, burned": ("post", burned["receipt_url"], {}),
        "about": ("get", "/about", None),
        "rules": ("get", "/rules", None),
        "moderation log": ("get", "/moderation", None),
        "not found": ("get", "/no/such/page", None),
    }


@pytest.fixture
def persian():
    return Client(HTTP_ACCEPT_LANGUAGE="fa")


def test_accept_language_fa_gives_persian_right_to_left(persian):
    body = persian.get("/").content.decode()
    assert '<html lang="fa" dir="rtl">' in body
    assert "همه چیز، زنده" in body  # "Everything, live"


def test_english_stays_the_default_left_to_right(client):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="en" dir="ltr">' in body
    assert "Everything, live" in body


# Each language's own script, where it has one (Spanish and Turkish share English's).
SCRIPTS = {
    "fa": PERSIAN,
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "uk": re.compile(r"[\u0400-\u04ff]"),
    "zh-hans": re.compile(r"[\u4e00-\u9fff]"),
}


def kept_as_is(lang: str) -> set[str]:
    """English a translator chose to keep (a loanword such as "Malware" in Spanish):
    the parts of each entry's English that its translation carries as they are."""
    folder = LOCALE / translation.to_locale(lang) / "LC_MESSAGES"
    kept = set()
    for po in folder.glob("*.po"):
        for entry in messages(po):
            translated = " ".join(entry.msgstr)
            for piece in re.split(r"<[^>]+>|%\([a-z_]+\)[sd]", entry.msgid):
                piece = piece.strip(" .,:;()#←")
                # A word or two (a loanword, a name), never a copied sentence.
                if piece and len(piece.split()) <= 2 and piece in translated:
                    kept.add(piece)
    return kept


@pytest.mark.parametrize("lang", ["fa", "ar", "ru", "uk", "zh-hans", "es", "tr"])
def test_no_english_is_left_on_any_page(client, lang):
    reader = Client(HTTP_ACCEPT_LANGUAGE=lang)
    kept = kept_as_is(lang)
    direction = "rtl" if lang in ("fa", "ar") else "ltr"
    left = {}
    for name, (method, path, form) in page_urls(client).items():
        if method == "post":
            response = reader.post(path, form, follow=True)
        else:
            response = reader.get(path)
        assert response.status_code < 500, name
        html = response.content.decode()
        assert f'<html lang="{lang}" dir="{direction}">' in html, name
        if lang in SCRIPTS:
            assert SCRIPTS[lang].search(visible_text(html)), name
        if found := [piece for piece in english_left(html) if piece not in kept]:
            left[name] = found
    assert not left, f"English left on {lang} pages: {left}"


def test_the_english_check_sees_english(client):
    """The check above is not vacuous: the same pages in English fail it."""
    assert len(english_fragments()) > 150
    assert "Everything, live" in english_left(client.get("/").content.decode())


def test_the_outage_page_speaks_the_readers_language():
    with translation.override("fa"):
        html = render_to_string("nullboard/503.html")
    assert '<html lang="fa" dir="rtl">' in html
    assert not english_left(html)


def test_every_page_has_the_language_menu(client):
    body = client.get("/about").content.decode()
    form = re.search(
        r'<form class="language-menu" action="/i18n/setlang/" method="post">.*?</form>', body, re.S
    )
    assert form, "no language menu"
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert '<input type="hidden" name="next" value="/about">' in form.group(0)
    codes = re.findall(r'<option value="([a-z-]+)" lang=', form.group(0))
    assert codes == ["en", "fa", "ar", "ru", "uk", "zh-hans", "es", "tr"]
    assert 'lang="fa">فارسی</option>' in form.group(0)


def test_the_menu_switches_language_and_sets_only_the_language_cookie():
    visitor = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    visitor.get("/about")
    token = visitor.cookies["csrftoken"].value
    before = set(visitor.cookies)
    response = visitor.post(
        "/i18n/setlang/",
        {"language": "fa", "next": "/about", "csrfmiddlewaretoken": token},
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 302
    assert response["Location"] == "/about"
    assert set(response.cookies) == {"django_language"}
    cookie = response.cookies["django_language"]
    assert cookie.value == "fa"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert set(visitor.cookies) - before == {"django_language"}
    body = visitor.get("/about").content.decode()  # the cookie beats Accept-Language
    assert '<html lang="fa" dir="rtl">' in body


def test_the_menu_refuses_a_post_without_the_csrf_token():
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.post("/i18n/setlang/", {"language": "fa", "next": "/"})
    assert response.status_code == 403
    assert "django_language" not in response.cookies


def test_the_menu_never_redirects_off_the_site(client):
    response = client.post("/i18n/setlang/", {"language": "fa", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_pages_vary_on_language_and_cookie(client):
    response = client.get("/")
    vary = {part.strip() for part in response["Vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary
    assert response["Content-Language"] == "en"


def test_the_javascript_catalog_is_served_per_language(client):
    response = client.get("/jsi18n/fa.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert "django.gettext = " in body and "django.ngettext = " in body
    assert "(n > 1)" in body  # Persian's plural rule, from locale/fa/.../djangojs.po
    assert '"Copied": "\\u0631\\u0648' in body  # "رونوشت شد", the scripts' strings
    assert "eval(" not in body and "new Function" not in body  # CSP: no unsafe-eval
    assert "public" in response["Cache-Control"] and "max-age=3600" in response["Cache-Control"]
    assert client.get("/jsi18n/xx.js").status_code == 404


def test_pages_load_the_catalog_of_their_language_before_their_modules(persian):
    body = persian.get("/").content.decode()
    catalog = body.index('<script src="/jsi18n/fa.js"></script>')
    assert catalog < body.index('<script type="module"')


def test_stylesheets_mirror_by_logical_properties_only():
    """One stylesheet per area serves both directions: no physical side remains."""
    physical = re.compile(
        r"(?<![\w-])(left|right|(margin|padding|border)-(left|right)\w*|float|clear)\s*:"
        r"|text-align:\s*(left|right)|translateX\("
    )
    sheets = [*ROOT.glob("static/css/*.css"), *ROOT.glob("static/*/*.css")]
    assert len(sheets) >= 3
    for sheet in sheets:
        found = physical.findall(sheet.read_text())
        assert not found, f"{sheet.name}: {found}"


def test_the_no_js_form_says_slow_down_in_persian(persian):
    for _ in range(6):
        response = persian.post("/drops/new", {"text": "hello", "ttl_seconds": "30"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "چند پیام محو با این فرم" in html
    assert not english_left(html)
