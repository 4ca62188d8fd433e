from django.core.management.base import BaseCommand
from django.db import transaction

from events.encryption import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every value encrypted at rest (webhook secrets, owner contacts, protected "
        "PII values: every EncryptedTextField) with the first key of OMS_ENCRYPTION_KEYS "
        "(afterwards older keys can be dropped from the list)."
    )

    def handle(self, *args, **options):
        for model, name in encrypted_fields():
            count = 0
            with transaction.atomic():
                # read decrypted (any key of the list), written encrypted with the first key
                for pk, clear in model.objects.select_for_update().values_list("pk", name):
                    model.objects.filter(pk=pk).update(**{name: clear})
                    count += 1
            self.stdout.write(f"{model._meta.label}.{name}: {count} re-encrypted")
