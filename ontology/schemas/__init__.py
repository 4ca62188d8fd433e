"""Generated schemas of an ontology: GraphQL SDL, JSON Schema 2020-12, OpenAPI 3.1.

Pure generators over canonical documents (docs/schemas.md); :mod:`ontology.schemas.serving`
renders them for a ref and caches the answers per commit.
"""
