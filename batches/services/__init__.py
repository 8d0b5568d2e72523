"""Writes, one module per entity: batches (creation), review (decisions, claims, audit), exports."""

from .batches import acceptance_threshold, create_batch

__all__ = ["acceptance_threshold", "create_batch"]
