import gc
import logging

from celery import shared_task
from celery.signals import beat_init, task_prerun, worker_process_init
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils.translation import gettext_noop

from digitsite.batches import ReconnectSafeBatches

from digitsite.errors import StorageUnavailable
from ml.inference import get_recognizer
from ml.strings import get_string_reader

from . import services

logger = logging.getLogger(__name__)

TRANSIENT = (DatabaseError, ConnectionError, TimeoutError, StorageUnavailable)
MAX_ATTEMPTS = 4
GAVE_UP = gettext_noop("Reading this image failed on our side. Please try again.")  # stored; shown translated


@worker_process_init.connect
def load_the_engine(**kwargs):
    """Load the models (one digit, and numbers) as each worker process starts, so that no reading
    waits for them; then keep what start-up made out of the collector's full passes (see digitsite/wsgi.py)."""
    get_recognizer()
    get_string_reader()
    gc.freeze()


@task_prerun.connect
def replace_broken_database_connections(task, **kwargs):
    """What Django does as each request starts. The worker keeps its connection across tasks
    (CELERY_DB_REUSE_MAX), so one that broke (a restarted server, a terminated backend) would
    otherwise fail every later task; now it is checked after an error and replaced. A task run
    eagerly (apply) runs inside its caller's transaction, which is left alone, as Celery's own
    Django fixup does."""
    if not task.request.is_eager:
        close_old_connections()


# One message per prediction; the worker gathers what has arrived (up to flush_every, or what came
# within flush_interval seconds) and reads it in one call, sharing the engine call, the database
# commit and the Redis round trip. The outcome lives in our Prediction rows, so Celery keeps no result.
@shared_task(
    base=ReconnectSafeBatches,
    ignore_result=True,
    flush_every=settings.RECOGNITION_BATCH_SIZE,
    flush_interval=settings.RECOGNITION_BATCH_WAIT_S,
)
def recognize_prediction(requests):
    _read(requests)


def _read(requests):
    try:
        services.run_predictions([request.args[0] for request in requests])
    except TRANSIENT:
        logger.warning("%d prediction(s) hit a transient fault; retrying each", len(requests), exc_info=True)
        for request in requests:
            _retry(request)
    except Exception:
        if len(requests) == 1:
            logger.exception("Prediction %s failed", requests[0].args[0])
            services.fail_prediction(requests[0].args[0], GAVE_UP)
            return
        # A fault with one image must not fail the others: read each on its own.
        logger.exception("Batch of %d predictions failed; reading each on its own", len(requests))
        for request in requests:
            _read([request])


def _retry(request):
    """Queue the prediction again after a back-off; once out of attempts, it ends failed."""
    attempt = request.kwargs.get("attempt", 1)
    if attempt >= MAX_ATTEMPTS:
        services.fail_prediction(request.args[0], GAVE_UP)
    else:
        recognize_prediction.apply_async(args=request.args, kwargs={"attempt": attempt + 1}, countdown=2**attempt)


@beat_init.connect
def sweep_at_start(sender, **kwargs):
    """Sweep as the sweeper starts, not one interval later: what a stopped one left pending waits
    no longer, and the health check sees the new sweeper at once."""
    sweep_stale_predictions.delay()


@shared_task(ignore_result=True)
def sweep_stale_predictions():
    failed, requeued = services.sweep_stale_predictions()
    return {"failed": failed, "requeued": requeued}
