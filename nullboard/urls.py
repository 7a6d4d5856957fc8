"""URL map: site-wide endpoints here, each app's under its own urls module."""

from django.urls import include, path

from nullboard import health, i18n, views

urlpatterns = [
    path("healthz", health.healthz_view, name="healthz"),
    path("readyz", health.readyz_view, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("about", views.about_view, name="about"),
    path("api/session", views.session_view, name="api-session"),
    # The language menu posts to Django's set_language (it sets the language cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/<str:lang>.js", i18n.javascript_catalog, name="javascript-catalog"),
    path("", include("boards.urls")),
    path("", include("drops.urls")),
    path("", include("moderation.urls")),
]

handler400 = "nullboard.views.bad_request"
handler403 = "nullboard.views.permission_denied"
handler404 = "nullboard.views.page_not_found"
handler500 = "nullboard.views.server_error"
