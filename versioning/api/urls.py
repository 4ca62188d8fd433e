"""Versioning routes under ``/api/v1/`` (included before the ontology's).

Branch names may contain ``/``, so branch-scoped routes are regular expressions with a
non-greedy branch group. A branch's detail route refuses paths with a reserved segment
(``object-types``, ``commits``...) so that ``branches/dev/object-types/`` reaches the
ontology's routes; branch names may not contain those segments (see ``reserved_segments``).
"""

from django.urls import path, re_path

from ..models import BRANCH_NAME_CHARS, reserved_segments
from . import consumers, releases, views

_RESERVED = "|".join(sorted(reserved_segments()))
# a branch name never holds a reserved segment: without that guard ``branches/a/interfaces/
# revert/`` (the ontology's interface ``revert`` on branch ``a``) would reach the revert
# route of a branch ``a/interfaces``
NAME = rf"[A-Za-z0-9](?:(?!/(?:{_RESERVED})/){BRANCH_NAME_CHARS}){{0,99}}?"
BRANCH = rf"(?P<branch>{NAME})"
REF = rf"(?P<ref>{NAME})"
NOT_RESERVED = rf"(?!(?:[^/]*/)*(?:{_RESERVED})(?:/|$))"
RID = r"(?P<rid>[^/]+)"

urlpatterns = [
    path("branches/", views.BranchListView.as_view(), name="branch-list"),
    re_path(rf"^branches/{BRANCH}/commits/$", views.CommitListView.as_view(), name="commit-list"),
    re_path(rf"^branches/{BRANCH}/changes/$", views.ChangesView.as_view(), name="branch-changes"),
    re_path(
        rf"^branches/{BRANCH}/changes/discard/$",
        views.DiscardView.as_view(),
        name="branch-changes-discard",
    ),
    re_path(rf"^branches/{BRANCH}/revert/$", views.RevertView.as_view(), name="branch-revert"),
    re_path(
        rf"^branches/{BRANCH}/entities/{RID}/history/$",
        views.EntityHistoryView.as_view(),
        name="entity-history",
    ),
    re_path(
        rf"^branches/(?P<branch>{NOT_RESERVED}{NAME})/$",
        views.BranchDetailView.as_view(),
        name="branch-detail",
    ),
    path("commits/<str:commit>/", views.CommitDetailView.as_view(), name="commit-detail"),
    path("diff/", views.DiffView.as_view(), name="diff"),
    re_path(rf"^refs/{REF}/documents/$", views.DocumentsView.as_view(), name="ref-documents"),
    re_path(rf"^refs/{REF}/documents/{RID}/$", views.DocumentView.as_view(), name="ref-document"),
    path("proposals/", views.ProposalListView.as_view(), name="proposal-list"),
    path("proposals/<int:pk>/", views.ProposalDetailView.as_view(), name="proposal-detail"),
    path("proposals/<int:pk>/dry-run/", views.DryRunView.as_view(), name="proposal-dry-run"),
    path("proposals/<int:pk>/resolve/", views.ResolveView.as_view(), name="proposal-resolve"),
    path("proposals/<int:pk>/approve/", views.ApproveView.as_view(), name="proposal-approve"),
    path("proposals/<int:pk>/merge/", views.MergeView.as_view(), name="proposal-merge"),
    path(
        "proposals/<int:pk>/update-from-target/",
        views.UpdateFromTargetView.as_view(),
        name="proposal-update-from-target",
    ),
    path("releases/", releases.ReleaseListView.as_view(), name="release-list"),
    path("releases/<str:version>/", releases.ReleaseDetailView.as_view(), name="release-detail"),
    path("compatibility/", releases.CompatibilityView.as_view(), name="compatibility"),
    path("consumers/", consumers.ConsumerListView.as_view(), name="consumer-list"),
    path("consumers/<str:name>/", consumers.ConsumerDetailView.as_view(), name="consumer-detail"),
]
