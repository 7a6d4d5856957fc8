from django.apps import AppConfig


class NullboardConfig(AppConfig):
    name = "nullboard"
    verbose_name = "Nullboard"

    def ready(self) -> None:
        from nullboard import checks  # noqa: F401  (registers the system checks)
