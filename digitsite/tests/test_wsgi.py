"""The WSGI entry point that gunicorn loads."""

import os
import subprocess
import sys
from pathlib import Path

LOAD = """
import gc, sys
from digitsite.wsgi import application
print(callable(application), "digitsite.urls" in sys.modules, gc.get_freeze_count())
"""


def test_loading_the_application_freezes_what_start_up_made():
    result = subprocess.run(  # a fresh process, as a gunicorn worker starts
        [sys.executable, "-c", LOAD], cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "digitsite.settings"},
        capture_output=True, text=True, timeout=60, check=True,
    )
    is_callable, urls_loaded, frozen = result.stdout.split()
    assert is_callable == "True" and urls_loaded == "True"
    assert int(frozen) > 10_000  # settings, models, URLs, views and their imports
