from django.apps import AppConfig


class OntologyConfig(AppConfig):
    name = "ontology"
    verbose_name = "Ontology"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from versioning import workspace

        from . import event_types
        from .merge_policy import OntologyPolicy
        from .workspace import OntologyWorkspace

        workspace.register(workspace=OntologyWorkspace(), policy=OntologyPolicy())
        event_types.register()
