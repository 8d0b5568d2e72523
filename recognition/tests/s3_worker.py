"""The Celery app for the worker processes of test_workers_on_s3: it says which predictions it received,
so that the test can tell that each worker did some of the work."""

from celery.signals import task_received

from digitsite.celery import app  # noqa: F401  (celery -A finds it here)


@task_received.connect
def say_received(request, **kwargs):
    if request.task_name == "recognition.tasks.recognize_prediction":
        print(f"received prediction {request.args[0]}", flush=True)
