from django.db import models


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Claimed by a worker"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead-lettered"
    DISCARDED = "discarded", "Discarded"


class DeadLetterReason(models.TextChoices):
    POISON = "poison", "Poison (non-retryable failure)"
    EXHAUSTED = "exhausted", "Retries exhausted"


class DeadLetterResolution(models.TextChoices):
    REQUEUED = "requeued", "Requeued"
    DISCARDED = "discarded", "Discarded"
