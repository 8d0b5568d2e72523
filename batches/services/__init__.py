"""Writes, one module per entity: batches (creation), review (decisions, claims, audit), exports."""

from .batches import acceptance_threshold, create_batch
from .review import ReviewConflict, accept, accept_above, claim, correct, reject, release, undo

__all__ = [
    "ReviewConflict", "accept", "accept_above", "acceptance_threshold", "claim", "correct", "create_batch",
    "reject", "release", "undo",
]
