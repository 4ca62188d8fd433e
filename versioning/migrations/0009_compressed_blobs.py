"""Blobs hold their canonical bytes zlib-compressed (``data``) instead of a JSONB document.

Existing blobs keep their hash: their document is re-encoded canonically and compressed.
"""

import json
import zlib

from django.db import migrations, models


def _canonical(doc) -> bytes:
    # as versioning.domain.canonical.canonical_bytes (a migration does not import app code)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compress_documents(apps, schema_editor):
    Blob = apps.get_model("versioning", "Blob")
    batch = []
    for blob in Blob.objects.only("hash", "document").iterator(500):
        raw = _canonical(blob.document)
        blob.data = zlib.compress(raw)
        name = blob.document.get("apiName") if isinstance(blob.document, dict) else None
        blob.api_name = name if isinstance(name, str) else None
        batch.append(blob)
        if len(batch) == 500:
            Blob.objects.bulk_update(batch, ["data", "api_name"])
            batch = []
    if batch:
        Blob.objects.bulk_update(batch, ["data", "api_name"])


def decompress_documents(apps, schema_editor):
    Blob = apps.get_model("versioning", "Blob")
    batch = []
    for blob in Blob.objects.only("hash", "data").iterator(500):
        blob.document = json.loads(zlib.decompress(blob.data))
        batch.append(blob)
        if len(batch) == 500:
            Blob.objects.bulk_update(batch, ["document"])
            batch = []
    if batch:
        Blob.objects.bulk_update(batch, ["document"])


class Migration(migrations.Migration):
    dependencies = [
        ("versioning", "0008_grant_cleanup_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="blob",
            name="api_name",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="blob",
            name="data",
            field=models.BinaryField(
                null=True, help_text="zlib-compressed canonical JSON bytes."
            ),
        ),
        migrations.AlterField(
            model_name="blob",
            name="document",
            field=models.JSONField(null=True),
        ),
        migrations.RunPython(compress_documents, decompress_documents),
        migrations.RemoveField(model_name="blob", name="document"),
        migrations.AlterField(
            model_name="blob",
            name="data",
            field=models.BinaryField(help_text="zlib-compressed canonical JSON bytes."),
        ),
        migrations.AlterField(
            model_name="blob",
            name="size",
            field=models.PositiveIntegerField(
                default=0, help_text="Canonical bytes, uncompressed."
            ),
        ),
    ]
