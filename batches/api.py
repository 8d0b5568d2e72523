from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import OfficialsOnlyMixin
from recognition.api import ERRORS
from recognition.models import Prediction
from recognition.views import file_response

from . import selectors, services
from .models import Batch
from .serializers import (
    AcceptAboveSerializer, AcceptedSerializer, BatchCreateSerializer, BatchDetailSerializer,
    BatchItemDetailSerializer, BatchItemSerializer, BatchSerializer, ExportQuerySerializer, ExportRowSerializer,
    ItemFilterSerializer, ReviewSerializer,
)
from .views import export_response

CONFLICT = {409: OpenApiResponse(description="Another reviewer has the item open (see the message)")}
ITEM_ORDERING = {
    "position": ["position"], "-position": ["-position"],
    "confidence": ["sort_confidence", "position"], "-confidence": ["-sort_confidence", "position"],
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "claimed"



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
class BatchViewSet(OfficialsOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    """Your organization's batches (bank officials only): many images read at once, each an item."""

    serializer_class = BatchSerializer

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

    @extend_schema(parameters=[ItemFilterSerializer],
                   responses={200: BatchItemSerializer(many=True), **ERRORS})
    @action(detail=True, url_path="items")
    def items(self, request, pk=None):
        """The batch's items, paginated, with their states; filter by state and confidence, order by
        either."""
        filters = ItemFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        items = selectors.items_of(self.get_object(), **{
            key: data[key] for key in ("state", "confidence_below") if key in data
        })
        page = self.paginate_queryset(items.order_by(*ITEM_ORDERING[data["ordering"]]))
        return self.get_paginated_response(BatchItemSerializer(page, many=True).data)

    @extend_schema(responses={200: BatchItemDetailSerializer, **ERRORS})
    @action(detail=True, url_path=r"items/(?P<item_id>[0-9]+)")
    def item(self, request, pk=None, item_id=None):
        """One item: its reading and boxes, the decision and final value, its state and its audit history."""
        return Response(self._item_data(request, self._item(item_id)))

    @extend_schema(responses={(200, "image/*"): OpenApiResponse(description="The item's image as sent"),
                              **ERRORS})
    @action(detail=True, url_path=r"items/(?P<item_id>[0-9]+)/image")
    def item_image(self, request, pk=None, item_id=None):
        """The item's image, for token clients (the web pages have their own address)."""
        return file_response(self._item(item_id).prediction.image)

    @extend_schema(request=ReviewSerializer, responses={200: BatchItemDetailSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>[0-9]+)/review")
    def review(self, request, pk=None, item_id=None):
        """Decide on an item: accept the reading, correct it to ``value`` (digits only), reject it as
        unreadable, or undo its last decision. 409 while another reviewer has it open."""
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item, verb = self._item(item_id), payload.validated_data["action"]
        try:
            if verb == "correct":
                services.correct(request.user, item, payload.validated_data["value"])
            else:
                getattr(services, verb)(request.user, item)
        except services.ReviewConflict as error:
            raise Conflict(str(error)) from None
        except DjangoValidationError as error:
            field = "value" if verb == "correct" else "action"
            raise serializers.ValidationError({field: serializers.get_error_detail(error)}) from None
        return Response(self._item_data(request, self._item(item_id)))

    @extend_schema(request=AcceptAboveSerializer, responses={200: AcceptedSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="accept-above")
    def accept_above(self, request, pk=None):
        """Accept every item that needs review, has a reading and is at least ``confidence`` sure (but those
        another reviewer has open), each with its audit row."""
        payload = AcceptAboveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        confidence = payload.validated_data["confidence"]
        return Response({"accepted": services.accept_above(request.user, self.get_object(), confidence)})

    def _item(self, item_id):
        return get_object_or_404(selectors.items_of(self.get_object()), pk=item_id)

    def _item_data(self, request, item):
        return BatchItemDetailSerializer(item, context={"request": request}).data


class BatchExportView(OfficialsOnlyMixin, APIView):
    """A batch's items as a CSV or JSON attachment, streamed (at explicit paths: the router makes no
    suffixes)."""

    file_format = None
    content_negotiation_class = IgnoreClientContentNegotiation

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
