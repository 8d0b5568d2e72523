"""The batch's pace and time left, from its predictions' finished times, in the progress JSON and on the
page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches import selectors
from batches.views import duration_text

from .test_exports import make_batch, read

pytestmark = pytest.mark.django_db


def finished_at(start, seconds, confidence=0.95, digits="10"):
    return read(confidence, digits, finished_at=start + timedelta(seconds=seconds))


def test_the_pace_is_measured_from_the_last_readings_and_gives_the_time_left(official):
    now = timezone.now()
    start = now - timedelta(seconds=10)
    # Four readings 2 s apart (3 intervals in 6 s: 0.5 items/s), then 3 pending items.
    batch = make_batch(official, [("a.png", finished_at(start, s), {}) for s in (0, 2, 4, 6)]
                       + [("p.png", {}, {})] * 3)
    pace = selectors.pace_of(batch, pending=3, now=start + timedelta(seconds=6))
    assert pace == {"items_per_s": 0.5, "seconds_left": 6.0}
    # No reading for 6 s more: the pace falls and the time left grows, as the worker stopped.
    assert selectors.pace_of(batch, pending=3, now=start + timedelta(seconds=12)) == {
        "items_per_s": 0.25, "seconds_left": 12.0}


def test_only_the_last_readings_count(official, settings, monkeypatch):
    monkeypatch.setattr(selectors, "RATE_WINDOW", 3)
    start = timezone.now() - timedelta(minutes=5)
    # Slow at first (one every 100 s), then fast (one a second): the window sees only the fast ones.
    seconds = (0, 100, 200, 201, 202)
    batch = make_batch(official, [("a.png", finished_at(start, s), {}) for s in seconds])
    assert selectors.pace_of(batch, pending=0) == {"items_per_s": 1.0, "seconds_left": 0.0}


def test_the_pace_is_unknown_before_two_readings(official):
    batch = make_batch(official, [("a.png", finished_at(timezone.now(), 0), {}), ("p.png", {}, {})])
    assert selectors.pace_of(batch, pending=1) == {"items_per_s": None, "seconds_left": None}


def test_another_batch_does_not_count(official):
    start = timezone.now() - timedelta(seconds=30)
    make_batch(official, [("other.png", finished_at(start, s), {}) for s in range(0, 30, 1)], name="Other")
    batch = make_batch(official, [("a.png", finished_at(start, s), {}) for s in (0, 10, 20)])
    assert selectors.pace_of(batch, pending=0)["items_per_s"] == 0.1


def test_the_progress_json_has_every_state_the_pace_and_the_bar(official_client, official, colleague):
    start = timezone.now() - timedelta(seconds=4)
    decided = {"decided_by": colleague, "decided_at": timezone.now()}
    batch = make_batch(official, [
        ("a.png", finished_at(start, 0), {}),
        ("b.png", finished_at(start, 1, confidence=0.3), {}),
        ("c.png", finished_at(start, 2, confidence=0.3),
         {"decision": "corrected", "final_value": "11", **decided}),
        ("d.png", finished_at(start, 3, confidence=0.3), {"decision": "rejected", **decided}),
        ("e.png", {}, {}),
    ])
    progress = official_client.get(reverse("batch-progress", args=[batch.pk])).json()
    assert progress["counts"] == {"total": 5, "pending": 1, "needs_review": 1, "auto_accepted": 1,
                                  "accepted": 0, "corrected": 1, "rejected": 1, "failed": 0}
    assert 0 < progress["items_per_s"] <= 1.0 and progress["seconds_left"] == pytest.approx(
        1 / progress["items_per_s"], abs=0.1)
    assert progress["pace_text"] == f"{progress['items_per_s']:,.1f} items/s"
    segments = {segment["state"]: segment for segment in progress["segments"]}
    assert set(segments) == set(progress["counts"]) - {"total"}
    assert segments["corrected"] == {"state": "corrected", "label": "Corrected", "count": 1, "percent": 20.0}
    assert segments["accepted"]["percent"] == 0
    assert progress["summary"] == ("Accepted automatically: 1, Corrected: 1, Needs review: 1, "
                                   "Rejected (unreadable): 1, Pending: 1")


def test_the_page_draws_the_bar_with_words_for_every_state(official_client, official):
    batch = make_batch(official, [("a.png", finished_at(timezone.now(), 0), {}), ("p.png", {}, {})])
    page = " ".join(official_client.get(reverse("batch-detail", args=[batch.pk])).content.decode().split())
    assert 'role="img" aria-label="Accepted automatically: 1, Pending: 1"' in page
    assert 'data-segment="pending" style="width: 50.0%" title="Pending: 1"' in page
    assert 'Needs review: <strong data-count="needs_review">0</strong>' in page
    assert 'Rejected (unreadable): <strong data-count="rejected">0</strong>' in page
    assert '<span id="progress-pace">unknown</span>' in page


@pytest.mark.parametrize("seconds, text", [
    (None, "unknown"), (0.4, "0 s"), (59.6, "1 min 0 s"), (125, "2 min 5 s"), (3 * 3600 + 120, "3 h 2 min"),
])
def test_durations_in_words(seconds, text):
    assert duration_text(seconds) == text
