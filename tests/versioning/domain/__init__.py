"""Tests of the Django-free versioning core and the ontology merge policy: no database."""
