from django.apps import AppConfig


class VersioningConfig(AppConfig):
    name = "versioning"
    verbose_name = "Versioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import event_types

        event_types.register()
