from django.contrib import admin

from .models import Batch, BatchItem


class BatchItemInline(admin.TabularInline):
    model = BatchItem
    fields = ("position", "original_name", "prediction")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "kind", "created_by", "created_at")
    list_filter = ("kind", "organization")
    search_fields = ("id", "name", "created_by__email")
    readonly_fields = [f.name for f in Batch._meta.fields]
    inlines = [BatchItemInline]

    def has_add_permission(self, request):
        return False
