"""The steward admin: every ontology model, edited one branch at a time.

``branching`` holds the session's branch choice, ``base`` the branch-scoped admin whose
writes go through :mod:`ontology.services`; the other modules register the models.
"""

from django.contrib import admin

from . import object_types, schema_types  # noqa: F401  (registers the model admins)

admin.site.site_header = "OMS — Ontology Metadata Service"
admin.site.site_title = "OMS admin"
admin.site.index_title = "Ontology"
