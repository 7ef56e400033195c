from django.apps import AppConfig


class StreamsConfig(AppConfig):
    """Activity events, timelines, follows, comments, milestones. Depends on no domain app."""

    name = "streams"
