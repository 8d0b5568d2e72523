"""Reads: a batch's items as CSV or JSON, produced row by row so that memory stays flat for any size.

Both formats have the same columns and rows; the page views and the API stream what these generators yield.
"""

import csv
import json

from django.utils.text import slugify

from .models import BatchItem
from .selectors import items_of

State = BatchItem.State

COLUMNS = [
    "position", "file_name", "reading", "final_value", "confidence", "state", "reviewer", "decided_at",
    "read_at", "model_version", "batch_name",
]
# The items whose value is settled: what an export holds unless every item is asked for.
SETTLED = [State.ACCEPTED, State.CORRECTED, State.AUTO_ACCEPTED]
CHUNK_SIZE = 500  # rows fetched from the database at a time, and written out together
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def final_value(item):
    """The value the batch settled on: the person's (accepted keeps the reading), the reading when accepted
    automatically, empty when rejected or not settled yet."""
    if item.state in (State.ACCEPTED, State.CORRECTED):
        return item.final_value or item.reading
    if item.state == State.AUTO_ACCEPTED:
        return item.reading
    return ""


def export_items(batch, everything=False):
    """The items an export holds, in order: the settled ones, or every one."""
    items = items_of(batch).select_related("decided_by")
    return items if everything else items.filter(state__in=SETTLED)


def rows(batch, everything=False):
    """One dict per item (keys COLUMNS), fetched CHUNK_SIZE at a time."""
    for item in export_items(batch, everything).iterator(chunk_size=CHUNK_SIZE):
        prediction = item.prediction
        yield {
            "position": item.position,
            "file_name": item.original_name,
            "reading": item.reading,
            "final_value": final_value(item),
            "confidence": prediction.confidence,
            "state": item.state,
            "reviewer": item.decided_by.email if item.decided_by else "",
            "decided_at": item.decided_at.isoformat() if item.decided_at else None,
            "read_at": prediction.finished_at.isoformat() if prediction.finished_at else None,
            "model_version": prediction.model_version,
            "batch_name": batch.name,
        }


def _chunks(lines):
    """Join lines CHUNK_SIZE at a time: one write per chunk, not one per row."""
    chunk = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK_SIZE:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer formats one row at a time."""

    def write(self, value):
        return value


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_lines(batch, everything=False):
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows(batch, everything):
        yield writer.writerow([safe_cell(row[column]) for column in COLUMNS])


def json_lines(batch, everything=False):
    """A JSON array, one object per line."""
    yield "["
    for number, row in enumerate(rows(batch, everything)):
        yield ("\n" if number == 0 else ",\n") + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


FORMATS = {"csv": (csv_lines, "text/csv; charset=utf-8"), "json": (json_lines, "application/json")}


def export(batch, file_format, everything=False):
    """(chunks of text, content type, file name) of the batch's export in ``file_format`` (csv or json)."""
    lines, content_type = FORMATS[file_format]
    return _chunks(lines(batch, everything)), content_type, file_name(batch, file_format)


def file_name(batch, extension):
    """A name safe in any file system and header, from the batch's name (ASCII letters, digits, - and _)."""
    return f"{slugify(batch.name)[:80] or 'batch'}-{str(batch.pk)[:8]}.{extension}"
