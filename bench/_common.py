"""Set-up shared by the benchmarks that run Django in-process (events.py, versioning.py)."""

from __future__ import annotations

import os


def fresh_database(server: str, name: str) -> str:
    """Drop and create the database ``name`` on ``server``; its URL."""
    import psycopg2

    conn = psycopg2.connect(f"{server}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return f"{server}/{name}"


def setup_django(url: str) -> None:
    """Point Django at the database ``url``, set it up and migrate."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("OMS_THROTTLE_ENABLED", "false")  # measure OMS, not its rate limits
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
