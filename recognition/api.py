from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors, services
from .models import Prediction
from .serializers import PredictionCreateSerializer, PredictionFilterSerializer, PredictionSerializer
from .views import file_response

WAIT_PARAMETER = OpenApiParameter(
    "wait", float, description=f"Hold the answer up to this many seconds (at most {settings.RECOGNITION_MAX_WAIT_S}) "
    "until the prediction has ended: 200 when it has, 202 while it is still pending.",
)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER,
    description="A key of your choosing (at most 255 characters): a retry with the same key returns the "
    "prediction made the first time instead of a new one.",
)
ERRORS = {code: OpenApiResponse(description=text) for code, text in {
    400: "Invalid request or unreadable image", 401: "Not authenticated", 404: "Not yours or not there",
    413: "Image too large", 415: "Not an image format we read", 429: "Throttled (see Retry-After)",
    503: "Unavailable for a moment (the database, Redis or the file storage); see Retry-After",
}.items()}


def wait_seconds(request):
    field = serializers.FloatField(min_value=0, required=False)
    try:
        return min(field.run_validation(request.query_params.get("wait", 0)), settings.RECOGNITION_MAX_WAIT_S)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"wait": error.detail}) from None


@extend_schema_view(
    list=extend_schema(parameters=[PredictionFilterSerializer], responses={200: PredictionSerializer(many=True)}),
    retrieve=extend_schema(parameters=[WAIT_PARAMETER], responses={200: PredictionSerializer, 202: PredictionSerializer, **ERRORS}),
    destroy=extend_schema(responses={204: None, 404: ERRORS[404]}),
)
class PredictionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                        viewsets.GenericViewSet):
    """Your predictions: send an image, read one digit with the probability of every class, or a number
    (kind=number) with each digit's box and probability."""

    serializer_class = PredictionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Prediction.objects.none()
        return selectors.predictions_of(self.request.user)

    def list(self, request):
        filters = PredictionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.predictions_of(request.user, **filters.validated_data))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(selectors.wait_for_prediction(self.get_object(), wait_seconds(request)))

    @extend_schema(
        request={"multipart/form-data": PredictionCreateSerializer, "application/json": PredictionCreateSerializer},
        parameters=[WAIT_PARAMETER, IDEMPOTENCY_PARAMETER],
        responses={200: PredictionSerializer, 202: PredictionSerializer, **ERRORS},
    )
    def create(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise serializers.ValidationError({"Idempotency-Key": [gettext("Use at most 255 characters.")]})
        wait = wait_seconds(request)
        prediction = selectors.prediction_by_idempotency_key(request.user, key) if key else None
        replayed = prediction is not None
        if not replayed:
            payload = PredictionCreateSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            prediction = services.create_prediction(
                request.user, payload.validated_data["image"], source=Prediction.Source.API, idempotency_key=key,
                kind=payload.validated_data["kind"],
            )
        response = self._answer(selectors.wait_for_prediction(prediction, wait))
        response["Location"] = response.data["url"]
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def perform_destroy(self, instance):
        services.delete_prediction(instance)

    @extend_schema(responses={(200, "image/*"): OpenApiResponse(description="The image as it was sent"), **ERRORS})
    @action(detail=True)
    def image(self, request, pk=None):
        return file_response(self.get_object().image)

    def _answer(self, prediction):
        code = status.HTTP_200_OK if prediction.has_ended else status.HTTP_202_ACCEPTED
        return Response(self.get_serializer(prediction).data, status=code)
