from celery import Task, shared_task
from django.db import DatabaseError

from . import services


class RecognitionTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Out of retries or an unexpected fault: the prediction must still end, as failed.
        services.fail_prediction(args[0], "Reading this image failed on our side. Please try again.")


# The outcome lives in our Prediction rows, so Celery keeps no result.
@shared_task(
    base=RecognitionTask,
    ignore_result=True,
    autoretry_for=(DatabaseError, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=3,
)
def recognize_prediction(prediction_id):
    services.run_prediction(prediction_id)


@shared_task(ignore_result=True)
def sweep_stale_predictions():
    failed, requeued = services.sweep_stale_predictions()
    return {"failed": failed, "requeued": requeued}
