"""celery-batches' task base, with its flush timer re-armed when the worker reconnects to the broker.

celery-batches 0.11 (the latest release) arms its flush timer once, on the first message, and
keeps a handle to it on the task, which outlives the consumer. After a lost broker connection
Celery builds a new consumer with a new timer and calls ``Strategy`` again, but the handle still
points at the old timer, so the timer is never armed again: messages then wait until
``flush_every`` of them have arrived (upstream issue #107, fixed by PR #108 after 0.11).
"""

from celery_batches import Batches


class ReconnectSafeBatches(Batches):
    def Strategy(self, task, app, consumer):
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None  # the next message arms a timer on the new consumer's hub
        return super().Strategy(task, app, consumer)
