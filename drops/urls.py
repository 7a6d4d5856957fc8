"""Drops URLs: pages and the JSON API."""

from django.urls import path

from drops import views

urlpatterns = [
    path("drops/new", views.new_page, name="drop-new"),
    path("d/<str:drop_id>", views.open_page, name="drop-open"),
    path("d/<str:drop_id>/qr.svg", views.qr_image, name="drop-qr"),
    path("d/<str:drop_id>/audio/<str:ticket>", views.audio_stream, name="drop-audio"),
    path("d/<str:drop_id>/receipt/<str:token>", views.receipt_page, name="drop-receipt"),
    path("api/drops", views.api_create, name="api-drops"),
    path("api/drops/<str:drop_id>", views.api_peek, name="api-drop-peek"),
    path("api/drops/<str:drop_id>/open", views.api_open, name="api-drop-open"),
]
