from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import selectors
from .models import Batch, BatchItem


@extend_schema_field({"type": "object", "properties": {
    name: {"type": "integer"} for name in ["total", *BatchItem.State.values]
}})
class CountsField(serializers.Field):
    """Items in all and per state."""

    def to_representation(self, batch):
        return selectors.counts_of(batch)


class BatchItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    original_name = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=BatchItem.State.choices, read_only=True)
    prediction = serializers.UUIDField(source="prediction_id", read_only=True)
    digits = serializers.CharField(source="reading", read_only=True, help_text="What was read; empty until done.")
    confidence = serializers.FloatField(source="prediction.confidence", read_only=True, allow_null=True)
    error = serializers.CharField(source="prediction.error", read_only=True)


class BatchSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField()
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Batch.Kind.choices, read_only=True)
    status = serializers.SerializerMethodField()
    threshold = serializers.FloatField(read_only=True, allow_null=True)
    counts = CountsField(source="*", read_only=True)
    skipped = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()), read_only=True,
        help_text="The files not taken, each with its name and the reason.",
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, batch):
        return self.context["request"].build_absolute_uri(reverse("api:batch-detail", args=[batch.pk]))

    @extend_schema_field({"type": "string", "enum": ["reading", "read"]})
    def get_status(self, batch):
        return "read" if selectors.progress_of(batch)["finished"] else "reading"


class BatchDetailSerializer(BatchSerializer):
    items = serializers.SerializerMethodField()

    @extend_schema_field(BatchItemSerializer(many=True))
    def get_items(self, batch):
        return BatchItemSerializer(selectors.items_of(batch), many=True).data


class BatchCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Batch.Kind.choices)
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="The images.")
    archive = serializers.FileField(required=False, help_text="Or a .zip of images.")

    def validate(self, attrs):
        if not attrs.get("files") and not attrs.get("archive"):
            raise serializers.ValidationError({"files": ["Send some images (files) or a .zip of them (archive)."]})
        return attrs


class ExportQuerySerializer(serializers.Serializer):
    all = serializers.BooleanField(
        default=False,
        help_text="Every item; by default only the settled ones (accepted, corrected, accepted automatically).",
    )


class ExportRowSerializer(serializers.Serializer):
    """One item of an export (the schema of the JSON export; the CSV export has the same columns)."""

    position = serializers.IntegerField()
    file_name = serializers.CharField()
    reading = serializers.CharField(help_text="What the engine read; empty when nothing was found.")
    final_value = serializers.CharField(
        help_text="The person's value, the reading when accepted automatically; empty when rejected or not "
        "settled."
    )
    confidence = serializers.FloatField(allow_null=True)
    state = serializers.ChoiceField(choices=BatchItem.State.choices)
    reviewer = serializers.CharField(help_text="The e-mail of who decided; empty when nobody did.")
    decided_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    model_version = serializers.CharField()
    batch_name = serializers.CharField()
