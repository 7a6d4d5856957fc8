"""The /rules page: default text, operator overrides, linked from the footer."""

from __future__ import annotations

from django.test import Client


def test_it_shows_the_default_rules_linked_to_the_log():
    response = Client().get("/rules")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Community rules</h1>" in html
    for reason in ("Spam", "Harassment", "Doxxing", "Malware", "Illegal content"):
        assert reason in html
    assert 'href="/moderation"' in html


def test_every_page_footer_links_rules_and_log():
    for path in ("/", "/topic/news", "/drops/new", "/about", "/rules", "/moderation"):
        html = Client().get(path).content.decode()
        footer = html[html.index('<footer class="footer">') :]
        assert 'href="/rules"' in footer and 'href="/moderation"' in footer, path


def test_operators_replace_the_text_with_a_setting(settings, tmp_path):
    (tmp_path / "ours.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>House rules</h1>{% endblock %}'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    settings.RULES_TEMPLATE = "ours.html"
    html = Client().get("/rules").content.decode()
    assert "<h1>House rules</h1>" in html and "Community rules" not in html


def test_operators_replace_the_text_with_a_template_override(settings, tmp_path):
    (tmp_path / "moderation").mkdir()
    (tmp_path / "moderation" / "rules.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Our own rules</h1>{% endblock %}'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    html = Client().get("/rules").content.decode()
    assert "<h1>Our own rules</h1>" in html


def _templates_first(settings, folder) -> None:
    """Put ``folder`` before the project's templates, as an operator's deploy would."""
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [folder, *engine["DIRS"]]}]
