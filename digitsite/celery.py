import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitsite.settings")

app = Celery("digitsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="digitsite.ping")
def ping():
    """Answer the health check: proves a worker takes tasks from the broker."""
    return "pong"
