from django.core.management.base import BaseCommand, CommandError

from events import conf
from events.sinks.nats import ensure_stream


class Command(BaseCommand):
    help = (
        "Create (or extend) the JetStream stream and subjects that OMS events go to, with a "
        "duplicate window of at least claim timeout + reaper interval + drain time budget."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="NATS URL (default: NATS_URL)")
        parser.add_argument("--stream", default=None, help="Stream name (default: OMS_EVENTS)")
        parser.add_argument("--prefix", default=None, help="Subject prefix (default: oms.events)")

    def handle(self, *args, url=None, stream=None, prefix=None, **options):
        url = url or conf.nats_url()
        if not url:
            raise CommandError("Set NATS_URL or pass --url.")
        try:
            ensure_stream(url, stream, prefix)
        except Exception as exc:
            raise CommandError(f"Could not set up the stream: {exc}") from exc
        self.stdout.write(
            f"Stream {stream or conf.nats_stream()} on {url}: subjects "
            f"{prefix or conf.nats_subject_prefix()}.>, duplicate window at least "
            f"{conf.nats_duplicate_window():g} s"
        )
        problem = conf.duplicate_window_problem()
        if problem:
            self.stderr.write(problem)
