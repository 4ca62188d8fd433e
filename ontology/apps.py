from django.apps import AppConfig


class OntologyConfig(AppConfig):
    name = "ontology"
    verbose_name = "Ontology"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from versioning import releases, workspace

        from . import event_types
        from .compat_policy import OntologyCompatibility
        from .compatibility import classify
        from .merge_policy import OntologyPolicy
        from .workspace import OntologyWorkspace

        workspace.register(
            workspace=OntologyWorkspace(),
            policy=OntologyPolicy(),
            compatibility=OntologyCompatibility(),
        )
        event_types.register()
        releases.register_classifier(classify)
