"""The steward admin: every ontology model, edited one branch at a time.

``branching`` holds the session's branch choice, ``base`` the branch-scoped admin whose
writes go through :mod:`ontology.services`; the other modules register the models. The
site itself (its titles, app order and home page) is ``ontology/admin_site.py``.
"""

from . import object_types, schema_types  # noqa: F401  (registers the model admins)
