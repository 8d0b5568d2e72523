import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitsite.settings")
application = get_wsgi_application()

# What start-up builds (settings, models, URLs, views and everything they import) lives as long as
# the process. Frozen, it is left out of the collector's full passes, which otherwise held the GIL
# for about 45 ms each, every few hundred requests, while every request in flight waited.
_ = get_resolver().url_patterns  # imports the URLconf and every view now, not at the first request
gc.freeze()
