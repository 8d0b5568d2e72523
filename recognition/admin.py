from django.contrib import admin

from .models import Prediction


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = (
        "id", "owner", "source", "kind", "status", "digit", "digits", "confidence", "model_version", "created_at"
    )
    list_filter = ("status", "kind", "source", "digit", "model_version")
    search_fields = ("id", "owner__email", "original_name")
    # The files stay out of the admin: they are served only by the owner-checked views.
    exclude = ("image", "thumbnail")
    readonly_fields = [f.name for f in Prediction._meta.fields if f.name not in ("image", "thumbnail")]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False
