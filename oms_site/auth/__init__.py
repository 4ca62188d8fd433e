"""Authentication add-ons: login lockout (django-axes), JWT, external issuers."""
