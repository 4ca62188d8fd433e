from django.apps import AppConfig


class OntologyConfig(AppConfig):
    name = "ontology"
    verbose_name = "Ontology"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from versioning import releases, workspace

        from . import event_types
        from .compatibility import classify
        from .kinds import ROUTE_SEGMENTS
        from .merge_policy import OntologyPolicy
        from .workspace import OntologyWorkspace

        workspace.register(
            workspace=OntologyWorkspace(),
            policy=OntologyPolicy(),
            route_segments=ROUTE_SEGMENTS.values(),
        )
        event_types.register()
        releases.register_classifier(classify)
