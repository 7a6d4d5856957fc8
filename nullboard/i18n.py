"""Languages: the JavaScript catalog, one URL per language, and the page titles
nullboard.views hands to templates/nullboard/error.html (translated there)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_noop, pgettext_lazy
from django.views.i18n import JavaScriptCatalog

# The catalog's URL names its language, so a cache keys on the URL alone (no Vary on
# a cookie): pages link the reader's own, and a deploy's new strings are live
# within the hour.
CATALOG_MAX_AGE_SECONDS = 3600

# Titles of the error page, passed untranslated by nullboard.views (it also names
# the API's error codes) and translated by the template with {% translate title %}.
ERROR_TITLES = (
    gettext_noop("Bad request"),
    gettext_noop("Error"),
    gettext_noop("Form expired"),
    gettext_noop("Not allowed"),
    gettext_noop("Not found"),
    gettext_noop("Too large"),
)

# The public moderation log's tags ("<kind> <action>"), translated by its template
# (lazy only so makemessages, which knows no pgettext_noop, finds them).
MODLOG_TAGS = (
    pgettext_lazy("moderation log", "post hidden"),
    pgettext_lazy("moderation log", "post restored"),
    pgettext_lazy("moderation log", "post removed"),
    pgettext_lazy("moderation log", "comment hidden"),
    pgettext_lazy("moderation log", "comment restored"),
    pgettext_lazy("moderation log", "comment removed"),
)

_catalog = JavaScriptCatalog.as_view()


def javascript_catalog(request: HttpRequest, lang: str) -> HttpResponseBase:
    """Django's JavaScript catalog (``django.gettext`` and friends) for ``lang``."""
    if lang not in dict(settings.LANGUAGES):
        raise Http404
    with translation.override(lang):
        response = _catalog(request)
    patch_cache_control(response, public=True, max_age=CATALOG_MAX_AGE_SECONDS)
    return response
