from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api import ObtainTokenView
from batches.api import BatchViewSet
from recognition.api import PredictionViewSet

from .health import healthz

# No format-suffix routes (`/predictions/{id}.json`): Accept or ?format= chooses the format.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("predictions", PredictionViewSet, basename="prediction")
router.register("batches", BatchViewSet, basename="batch")

api_v1 = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("recognition.urls")),
    path("accounts/", include("accounts.urls")),
    path("batches/", include("batches.urls")),
    path("review/", include("batches.review_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
]

# Under /api/, what Django itself refuses comes in the API's error format too.
handler400 = "digitsite.api.bad_request"
handler404 = "digitsite.api.page_not_found"
handler500 = "digitsite.api.server_error"
