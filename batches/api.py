from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api import ERRORS
from recognition.models import Prediction

from . import selectors, services
from .models import Batch
from .serializers import (
    BatchCreateSerializer, BatchDetailSerializer, BatchSerializer, ExportQuerySerializer, ExportRowSerializer,
)
from .views import export_response


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """An export is always CSV or JSON whatever the client accepts (a download sends Accept: */* or text/csv);
    the negotiated renderer only renders errors, in the one error format."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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



class BatchExportView(APIView):
    """A batch's items as a CSV or JSON attachment, streamed (at explicit paths: the router makes no
    suffixes)."""

    file_format = None
    content_negotiation_class = IgnoreClientContentNegotiation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not selectors.is_official(request.user):  # as BatchViewSet: as if there were nothing here
            raise NotFound()

    def get(self, request, pk):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = selectors.batch_of(request.user, pk)
        return export_response(batch, self.file_format, query.validated_data["all"])


@extend_schema_view(get=extend_schema(
    operation_id="batches_export_csv", parameters=[ExportQuerySerializer],
    responses={(200, "text/csv"): OpenApiTypes.STR, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404]},
    description="The batch's settled items (accepted, corrected, accepted automatically; every item with "
    "all=true) as a CSV attachment, streamed. Cells that a spreadsheet would run as a formula start with '.",
))
class BatchExportCSVView(BatchExportView):
    file_format = "csv"


@extend_schema_view(get=extend_schema(
    operation_id="batches_export_json", parameters=[ExportQuerySerializer],
    responses={200: ExportRowSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404]},
    description="The same rows as the CSV export, as a JSON array attachment, streamed.",
))
class BatchExportJSONView(BatchExportView):
    file_format = "json"
