from django.apps import AppConfig


class VersioningConfig(AppConfig):
    name = "versioning"
    verbose_name = "Versioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import compaction, event_types, releases, services

        event_types.register()
        services.register_ref_resolver(releases.release_commit)
        compaction.register_keeper(releases.released_commits)
