from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("", include("recognition.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
