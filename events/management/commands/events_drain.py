import json

from django.core.management.base import BaseCommand

from events import delivery


class Command(BaseCommand):
    help = "Sequence and deliver pending events now (what the drain task does), then report."

    def add_arguments(self, parser):
        parser.add_argument("--reap", action="store_true", help="Return stale claims first.")

    def handle(self, *args, reap=False, **options):
        if reap:
            self.stdout.write(f"reaped {delivery.reap_stale_claims()} stale claims")
        self.stdout.write(json.dumps(delivery.drain().as_dict()))
