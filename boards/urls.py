"""Boards URLs: pages and the JSON API."""

from django.urls import path

from boards import views

urlpatterns = [
    path("", views.home_view, name="home"),
    path("topic/<str:topic>", views.topic_view, name="topic"),
    path("r/<str:room>", views.room_view, name="room"),
    path("post/<str:post_id>", views.post_view, name="post"),
    path("trending", views.trending_view, name="trending"),
    path("rooms", views.my_rooms_view, name="my-rooms"),
    path("api/posts", views.posts_view, name="api-posts"),
    path("api/posts/<str:post_id>", views.post_detail_view, name="api-post"),
    path("api/posts/<str:post_id>/comments", views.comments_view, name="api-comments"),
    path("api/topics/trending", views.trending_api_view, name="api-trending"),
    path("api/rooms", views.rooms_view, name="api-rooms"),
]
