"""Placeholder replaced below."""


class OntologyWorkspace:
    pass


class OntologyPolicy:
    pass
