import io
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import BadRequest
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from batches import selectors as batch_selectors
from digitsite.errors import StorageUnavailable

from . import selectors, services
from .forms import HistoryFilterForm, PanelWaitForm, UploadForm
from .storage import read_file

OPEN_BATCHES_SHOWN = 10


def file_response(stored):
    """Serve a stored upload to its (already checked) owner, read from the storage (local folder or
    private S3 bucket) by this process; never from a public or signed URL."""
    if not stored:
        raise Http404("No such file.")
    try:
        data = read_file(stored)  # uploads are small (RECOGNITION_MAX_UPLOAD_MB)
    except FileNotFoundError:
        raise Http404("No such file.") from None
    content_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    response = FileResponse(io.BytesIO(data), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


class HomeView(TemplateView):
    template_name = "recognition/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            max_upload_mb=settings.RECOGNITION_MAX_UPLOAD_BYTES // 2**20,
            unsure_below_percent=round(settings.RECOGNITION_UNSURE_BELOW * 100),
            **kwargs,
        )
        if batch_selectors.is_official(self.request.user):  # officials start from their open work
            open_batches = batch_selectors.open_batches_of(self.request.user)[:OPEN_BATCHES_SHOWN]
            context["open_batches"] = [(batch, batch_selectors.counts_of(batch)) for batch in open_batches]
            context["review_queue_size"] = batch_selectors.review_queue(self.request.user).count()
        return context


class DrawView(LoginRequiredMixin, TemplateView):
    template_name = "recognition/draw.html"


class UploadView(LoginRequiredMixin, View):
    """Both the upload page and the drawing canvas post here."""

    template_name = "recognition/upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": UploadForm()})

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        template = "recognition/draw.html" if request.POST.get("source") == "drawing" else self.template_name
        if not form.is_valid():
            return render(request, template, {"form": form}, status=400)
        uploads = form.cleaned_data["images"]
        try:
            predictions = services.create_predictions(
                request.user, uploads.images, source=form.cleaned_data["source"],
                kind=form.cleaned_data["kind"],
            )
        except StorageUnavailable as error:
            form.add_error("images", str(error))
            response = render(request, template, {"form": form}, status=503)
            response["Retry-After"] = error.retry_after
            return response
        if request.accepts("application/json") and not request.accepts("text/html"):
            # The drawing page sends with fetch and shows the answer in place (draw.js).
            return JsonResponse({"predictions": [{
                "id": str(p.pk), "url": reverse("prediction-detail", args=[p.pk]),
                "panel_url": reverse("prediction-panel", args=[p.pk]),
            } for p in predictions], "refused": uploads.refused}, status=201)
        for reason in uploads.refused:
            messages.warning(request, gettext("Not read: %(reason)s") % {"reason": reason})
        if len(predictions) == 1:
            return redirect("prediction-detail", pk=predictions[0].pk)
        messages.success(request, ngettext(
            "%(count)d image is being read; it appears here when it finishes.",
            "%(count)d images are being read; they appear here as they finish.", len(predictions),
        ) % {"count": len(predictions)})
        return redirect("history")


class OwnPredictionMixin(LoginRequiredMixin):
    def get_object(self, queryset=None):
        return selectors.prediction_of(self.request.user, self.kwargs["pk"])


class PredictionDetailView(OwnPredictionMixin, DetailView):
    template_name = "recognition/prediction_detail.html"
    context_object_name = "prediction"


class PredictionPanelView(OwnPredictionMixin, DetailView):
    """The result panel alone, which the result page long-polls until the reading is done.

    With ``?wait=SECONDS`` the answer is held until the reading ends, on the Redis notification the
    API's ``?wait`` uses, or until the wait runs out (the panel then still says pending). The wait is
    capped at RECOGNITION_MAX_WAIT_S, so a waiting page holds one web thread for at most that long.
    """

    template_name = "recognition/_result_panel.html"
    context_object_name = "prediction"

    def get_object(self, queryset=None):
        prediction = super().get_object(queryset)
        wait = PanelWaitForm(self.request.GET)
        if not wait.is_valid():
            raise BadRequest(wait.errors["wait"][0])
        return selectors.wait_for_prediction(prediction, wait.cleaned_data["wait"])


class PredictionImageView(OwnPredictionMixin, View):
    def get(self, request, pk):
        return file_response(self.get_object().image)


class PredictionThumbnailView(OwnPredictionMixin, View):
    def get(self, request, pk):
        return file_response(services.thumbnail_of(self.get_object()))


class PredictionDeleteView(OwnPredictionMixin, View):
    def post(self, request, pk):
        services.delete_prediction(self.get_object())
        messages.success(request, gettext("The reading and its image were deleted."))
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("history")
        return redirect(next_url)


class HistoryView(LoginRequiredMixin, ListView):
    template_name = "recognition/history.html"
    context_object_name = "predictions"
    paginate_by = 20

    def get_queryset(self):
        self.filter_form = HistoryFilterForm(self.request.GET or None)
        # The valid filters apply even when another is invalid: cleaned_data keeps only the valid ones.
        self.filter_form.is_valid()
        filters = self.filter_form.cleaned_data if self.filter_form.is_bound else {}
        return selectors.predictions_of(self.request.user, **filters)

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filter_form=self.filter_form, query=query.urlencode(), **kwargs)
