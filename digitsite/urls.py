from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api import ObtainTokenView, OrganizationView
from batches.api import BatchExportCSVView, BatchExportJSONView, BatchViewSet
from recognition.api import PredictionViewSet

from .health import healthz

# No format-suffix routes (`/predictions/{id}.json`): Accept or ?format= chooses the format.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("predictions", PredictionViewSet, basename="prediction")
router.register("batches", BatchViewSet, basename="batch")

api_v1 = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("organization/", OrganizationView.as_view(), name="organization"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("batches/<uuid:pk>/export.csv", BatchExportCSVView.as_view(), name="batch-export-csv"),
    path("batches/<uuid:pk>/export.json", BatchExportJSONView.as_view(), name="batch-export-json"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("recognition.urls")),
    path("accounts/", include("accounts.urls")),
    path("batches/", include("batches.urls")),
    path("organization/", include("accounts.organization_urls")),
    path("review/", include("batches.review_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the switcher posts here
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),  # the scripts' sentences
    path("api/v1/", include((api_v1, "api"))),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
]

# Under /api/, what Django itself refuses comes in the API's error format too.
handler400 = "digitsite.api.bad_request"
handler404 = "digitsite.api.page_not_found"
handler500 = "digitsite.api.server_error"
