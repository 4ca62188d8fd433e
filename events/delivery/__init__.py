"""The delivery engine: sequence committed events, claim due deliveries, send, record.

Every step is a short transaction; no lock is held while a sink is called:

1. ``sequencing``: under the ``OutboxCursor`` row lock, give committed events their feed
   position and create one ``Delivery`` per (event, sink).
2. ``claiming``: ``SELECT ... FOR UPDATE SKIP LOCKED`` due deliveries of sinks whose
   breaker lets calls through, mark them claimed by this worker, commit.
3. ``sending``: build each CloudEvent once, send per sink through its breaker;
4. ``recording``: record the outcomes (only for rows this worker still owns).

``loop.drain`` runs the steps with one batch in flight; ``maintenance`` reaps stale claims
and purges finished events.
"""

from .claiming import claim, release_claims
from .loop import drain
from .maintenance import purge_delivered, reap_stale_claims
from .recording import backoff
from .rows import Claim, Stats, worker_id
from .sending import deliver_claimed, finish_batches, in_order, start_batches
from .sequencing import sequence_and_claim, sequence_pending

__all__ = [
    "Claim",
    "Stats",
    "backoff",
    "claim",
    "deliver_claimed",
    "drain",
    "finish_batches",
    "in_order",
    "purge_delivered",
    "reap_stale_claims",
    "release_claims",
    "sequence_and_claim",
    "sequence_pending",
    "start_batches",
    "worker_id",
]
