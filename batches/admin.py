from django.contrib import admin

from .models import Batch, BatchItem, ReviewAction


class ReadOnlyMixin:
    """The audit trail and the decisions are written by the review services only, never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BatchItemInline(admin.TabularInline):
    model = BatchItem
    fields = ("position", "original_name", "prediction", "decision", "final_value", "decided_by")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0
    show_change_link = True


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "kind", "created_by", "created_at")
    list_filter = ("kind", "organization")
    search_fields = ("id", "name", "created_by__email")
    readonly_fields = [f.name for f in Batch._meta.fields]
    inlines = [BatchItemInline]

    def has_add_permission(self, request):
        return False


class ReviewActionInline(ReadOnlyMixin, admin.TabularInline):
    model = ReviewAction
    fields = ("created_at", "actor", "action", "state_before", "state_after", "value_before", "value_after")
    readonly_fields = fields
    extra = 0


@admin.register(BatchItem)
class BatchItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "decision", "final_value", "decided_by", "decided_at")
    list_filter = ("decision", "batch__organization")
    search_fields = ("batch__name", "original_name", "final_value")
    readonly_fields = [f.name for f in BatchItem._meta.fields]
    inlines = [ReviewActionInline]


@admin.register(ReviewAction)
class ReviewActionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "item", "actor", "action", "state_before", "state_after", "value_before",
                    "value_after")
    list_filter = ("action", "item__batch__organization")
    search_fields = ("actor__email", "item__batch__name")
    readonly_fields = [f.name for f in ReviewAction._meta.fields]
    list_select_related = ("item__batch", "actor")
