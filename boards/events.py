"""The boards' live events: which groups an item's events go to.

Publishing itself is the live layer's (``nullboard.live``); services call
``events.publish`` with the groups named here.
"""

from __future__ import annotations

from boards.validation import is_room, is_topic
from nullboard.live import apublish, publish

__all__ = [
    "HOME_GROUP",
    "TRENDING_GROUP",
    "apublish",
    "groups_for",
    "publish",
    "room_group",
    "topic_group",
]

HOME_GROUP = "feed.home"
TRENDING_GROUP = "feed.trending"


def topic_group(topic: str) -> str:
    if not is_topic(topic):
        raise ValueError("not a topic slug")
    return f"topic.{topic}"


def room_group(room: str) -> str:
    if not is_room(room):
        raise ValueError("not a room id")
    return f"room.{room}"


def groups_for(*, topic: str | None = None, room: str | None = None) -> list[str]:
    """Where an item's events go: its room, or its topic plus the home feed."""
    if room:
        return [room_group(room)]
    if topic:
        return [topic_group(topic), HOME_GROUP]
    return []
