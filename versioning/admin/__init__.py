"""Versioning in the steward admin, one module per page family, as ``ontology/admin/`` is.

``branches`` registers the branches (list, create from a branch, settings, grants),
``commits`` the commit list and the changes / discard / history / compare / revert pages,
``proposals`` the proposals and their actions, ``releases`` the releases and *Cut a
release*, ``consumers`` the registered consumers. ``common`` holds what they share (the
steward's branch, which buttons apply, a refusal as a message, page URLs); ``display``
the side-by-side rows, entity cards and conflict groups; ``dag`` the commit graph drawn as SVG.
"""

from . import branches, commits, consumers, proposals, releases  # noqa: F401  (register the model admins)
