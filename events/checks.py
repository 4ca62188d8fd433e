"""System checks of the events app (``manage.py check``, ``migrate``, ``runserver``)."""

from __future__ import annotations

from django.core import checks

from . import conf


@checks.register()
def duplicate_window(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The JetStream duplicate window covers a re-send after a dead worker's claim."""
    if "nats" not in conf.sinks():
        return []
    problem = conf.duplicate_window_problem()
    return [checks.Warning(problem, id="events.W001")] if problem else []


@checks.register(checks.Tags.security, deploy=True)
def encryption_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Production encrypts with keys of its own, not the development key."""
    from . import encryption

    if encryption.configured_keys():
        try:
            encryption.encrypt("probe")
        except Exception as exc:
            return [checks.Error(str(exc), id="events.E002")]
        return []
    return [
        checks.Error(
            "OMS_ENCRYPTION_KEYS is not set: secrets at rest are encrypted with a development "
            "key derived from SECRET_KEY.",
            hint='Set OMS_ENCRYPTION_KEYS to a Fernet key (python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").',
            id="events.E002",
        )
    ]
