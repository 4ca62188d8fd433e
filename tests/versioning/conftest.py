"""Fixtures shared by the versioning tests (a module may override them)."""

import pytest

from tests.factories import UserFactory
from tests.versioning.support import seed_main


@pytest.fixture
def main():
    """``main`` with three object types and a link, committed."""
    return seed_main(3)


@pytest.fixture
def releaser():
    """A user who may cut releases (``versioning.release_branch``) and nothing else."""
    return UserFactory(username="releaser", permissions=["versioning.release_branch"])
