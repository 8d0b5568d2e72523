from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.generic import ListView

from digitsite.errors import StorageUnavailable
from recognition.services import thumbnail_of
from recognition.views import file_response

from accounts.views import OfficialRequiredMixin

from . import exports, selectors, services
from .forms import BatchForm, ExportForm
from .models import BatchItem

State = BatchItem.State

ITEMS_PER_PAGE = 100


class BatchListView(OfficialRequiredMixin, ListView):
    template_name = "batches/batch_list.html"
    context_object_name = "batches"
    paginate_by = 20

    def get_queryset(self):
        return selectors.batches_of(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [(batch, selectors.progress_of(batch)) for batch in context["batches"]]
        return context


class BatchCreateView(OfficialRequiredMixin, View):
    template_name = "batches/batch_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": BatchForm()})

    def post(self, request):
        form = BatchForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        data = form.cleaned_data
        try:
            batch = services.create_batch(request.user, data["name"], data["kind"], data["files"], data["archive"])
        except ValidationError as error:
            form.add_error(None, error)
            return render(request, self.template_name, {"form": form}, status=400)
        except StorageUnavailable as error:
            form.add_error(None, str(error))
            response = render(request, self.template_name, {"form": form}, status=503)
            response["Retry-After"] = error.retry_after
            return response
        values = {"taken": batch.items.count(), "skipped": len(batch.skipped)}
        if batch.skipped:
            message = ngettext("%(taken)d image is being read; %(skipped)d skipped.",
                               "%(taken)d images are being read; %(skipped)d skipped.", values["taken"])
        else:
            message = ngettext("%(taken)d image is being read.", "%(taken)d images are being read.",
                               values["taken"])
        messages.success(request, message % values)
        return redirect("batch-detail", pk=batch.pk)


# The order of the states in the bar and its legend: settled first, then what is left to do.
BAR_STATES = [State.AUTO_ACCEPTED, State.ACCEPTED, State.CORRECTED, State.NEEDS_REVIEW, State.REJECTED,
              State.FAILED, State.PENDING]


def duration_text(seconds):
    if seconds is None:
        return gettext("unknown")
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    values = {"hours": hours, "minutes": minutes, "seconds": seconds}
    if hours:
        return gettext("%(hours)d h %(minutes)d min") % values
    return gettext("%(minutes)d min %(seconds)d s") % values if minutes else gettext("%(seconds)d s") % values


def live_progress(batch):
    """The counts, the pace and the time left, with their words, as the page shows them and polls them."""
    progress = selectors.progress_of(batch)
    counts = progress["counts"]
    progress.update(selectors.pace_of(batch, counts[State.PENDING]))
    rate = progress["items_per_s"]
    if rate is None:
        progress["pace_text"] = gettext("unknown")
    else:
        progress["pace_text"] = gettext("%(rate)s items/s") % {"rate": f"{rate:,.1f}"}
    if progress["finished"]:
        progress["time_left_text"] = gettext("none")
    else:
        progress["time_left_text"] = duration_text(progress["seconds_left"])
    progress["segments"] = [{
        "state": state.value, "label": state.label, "count": counts[state],
        "percent": round(100 * counts[state] / counts["total"], 2) if counts["total"] else 0,
    } for state in BAR_STATES]
    progress["summary"] = ", ".join(f"{s['label']}: {s['count']}" for s in progress["segments"] if s["count"])
    return progress


class BatchDetailView(OfficialRequiredMixin, View):
    def get(self, request, pk):
        batch = selectors.batch_of(request.user, pk)
        items = Paginator(selectors.items_of(batch), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
        return render(request, "batches/batch_detail.html", {
            "batch": batch, "progress": live_progress(batch), "items": items,
        })


class BatchProgressView(OfficialRequiredMixin, View):
    """What the batch page polls: the counts per state, the pace and time left, and the states of the items
    on its page (?page=)."""

    def get(self, request, pk):
        batch = selectors.batch_of(request.user, pk)
        items = Paginator(selectors.items_of(batch), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
        progress = live_progress(batch)
        progress["items"] = [{
            "id": item.pk, "state": item.state, "state_label": item.state_label, "reading": item.reading,
            "confidence_percent": item.confidence_percent,
        } for item in items]
        response = JsonResponse(progress)
        response["Cache-Control"] = "no-store"
        return response


class BatchItemImageView(OfficialRequiredMixin, View):
    """An item's image, to any official of the batch's organization (the prediction's own view is its owner's)."""

    def get(self, request, batch_pk, pk):
        return file_response(selectors.item_of(request.user, batch_pk, pk).prediction.image)


class BatchItemThumbnailView(OfficialRequiredMixin, View):
    def get(self, request, batch_pk, pk):
        return file_response(thumbnail_of(selectors.item_of(request.user, batch_pk, pk).prediction))


def export_response(batch, file_format, everything):
    """The batch's export streamed as an attachment: the rows are read and sent a chunk at a time."""
    chunks, content_type, name = exports.export(batch, file_format, everything)
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class BatchExportView(OfficialRequiredMixin, View):
    """The settled items (every item with ?all=1) as CSV or JSON."""

    file_format = None

    def get(self, request, pk):
        batch = selectors.batch_of(request.user, pk)
        form = ExportForm(request.GET)
        return export_response(batch, self.file_format, form.is_valid() and form.cleaned_data["all"])
