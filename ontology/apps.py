from django.apps import AppConfig


class OntologyConfig(AppConfig):
    name = "ontology"
    verbose_name = "Ontology"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from versioning import releases, workspace

        from . import event_types, metrics
        from .compat_policy import OntologyCompatibility
        from .compatibility import classify
        from .kinds import ROUTE_SEGMENTS
        from .merge_policy import OntologyPolicy
        from .workspace import OntologyWorkspace

        workspace.register(
            workspace=OntologyWorkspace(),
            policy=OntologyPolicy(),
            compatibility=OntologyCompatibility(),
            route_segments=(*ROUTE_SEGMENTS.values(), "bundle"),
        )
        event_types.register()
        metrics.register_collector()
        releases.register_classifier(classify)
        _register_downloads()


def _register_downloads() -> None:
    """The bundle and the generated schemas of a ref, on the admin's branch and release
    pages (docs/bundles.md, docs/schemas.md)."""
    from django.urls import reverse

    from versioning.admin.display import register_ref_download

    for label, name, query in (
        ("bundle (JSON)", "ref-bundle", "?download=1"),
        ("bundle (YAML)", "ref-bundle", "?download=1&format=yaml"),
        ("GraphQL SDL", "ref-graphql", "?download=1"),
        ("JSON Schema", "ref-json-schema", "?download=1"),
        ("OpenAPI", "ref-openapi", "?download=1"),
    ):
        register_ref_download(
            label, lambda ref, name=name, query=query: reverse(name, kwargs={"ref": ref}) + query
        )
