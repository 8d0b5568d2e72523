from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from recognition.api import ERRORS
from recognition.models import Prediction

from . import selectors, services
from .models import Batch
from .serializers import BatchCreateSerializer, BatchDetailSerializer, BatchSerializer


@extend_schema_view(
    list=extend_schema(responses={200: BatchSerializer(many=True), 404: ERRORS[404]}),
    retrieve=extend_schema(responses={200: BatchDetailSerializer, 404: ERRORS[404]}),
)
class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your organization's batches (bank officials only): many images read at once, each an item."""

    serializer_class = BatchSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not selectors.is_official(request.user):  # as if there were nothing here
            raise NotFound()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Batch.objects.none()
        return selectors.batches_of(self.request.user)

    def get_serializer_class(self):
        return BatchDetailSerializer if self.action == "retrieve" else BatchSerializer

    @extend_schema(
        request={"multipart/form-data": BatchCreateSerializer},
        responses={201: BatchDetailSerializer, **ERRORS},
    )
    def create(self, request):
        payload = BatchCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            batch = services.create_batch(
                request.user, data["name"], data["kind"], data.get("files", []), data.get("archive"),
                source=Prediction.Source.API,
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"files": serializers.get_error_detail(error)}) from None
        batch = selectors.batch_of(request.user, batch.pk)  # with its counts
        return Response(BatchDetailSerializer(batch, context={"request": request}).data, status=status.HTTP_201_CREATED)
