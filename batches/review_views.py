"""The officials' review pages: the queue, the review screen (keyboard first, plain forms without
JavaScript) and bulk acceptance. The services decide; these pages only route to them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views import View

from accounts.views import OfficialRequiredMixin

from . import selectors, services
from .forms import AcceptAboveForm, QueueFilterForm, ReviewForm
from .models import BatchItem

QUEUE_PER_PAGE = 50
ACCEPT_ABOVE_SUGGESTED = 97  # percent: what the bulk form offers first
UNDO_DEPTH = 50  # how many of the reviewer's last decisions U can take back, newest first
State = BatchItem.State


def _filters(request):
    form = QueueFilterForm(request.user, request.GET)
    return form, (form.queue_arguments() if form.is_valid() else None)


def _queue_query(request):
    """The queue's filters as a query string, carried from item to item."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _review_url(item, query):
    url = reverse("review-item", args=[item.pk])
    return f"{url}?{query}" if query else url


class ReviewQueueView(OfficialRequiredMixin, View):
    def get(self, request):
        form, arguments = _filters(request)
        if arguments is None:  # say what is wrong rather than show an unfiltered list
            return render(request, "batches/review_queue.html", {"form": form, "items": None}, status=400)
        queue = selectors.review_queue(request.user, **arguments).select_related("claimed_by")
        items = Paginator(queue, QUEUE_PER_PAGE).get_page(request.GET.get("page"))
        return render(request, "batches/review_queue.html", {
            "form": form, "items": items, "query": _queue_query(request), "now": timezone.now(),
            "start": selectors.first_free(queue, request.user),
            "accept_above": AcceptAboveForm(request.user, initial={
                "batch": arguments["batch"], "confidence": ACCEPT_ABOVE_SUGGESTED}),
        })


class ReviewItemView(OfficialRequiredMixin, View):
    """GET opens the item and claims it for REVIEW_CLAIM_S; POST acts on it and goes on to the next one."""

    template_name = "batches/review_item.html"

    def get(self, request, pk):
        item = selectors.review_item_of(request.user, pk)
        conflict = None
        try:
            services.claim(request.user, item)
        except services.ReviewConflict as error:
            conflict = str(error)
        form = ReviewForm(initial={"value": selectors.value_in_effect(item)})
        return self._render(request, item, form, conflict=conflict)

    def post(self, request, pk):
        item = selectors.review_item_of(request.user, pk)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            return self._render(request, item, form, status=400)
        action, value = form.cleaned_data["action"], form.cleaned_data["value"]
        query = _queue_query(request)
        if action in ("next", "previous"):
            services.release(request.user, item)
            return self._go_on(request, item, query, forward=action == "next")
        if action == "undo":
            return self._undo(request, item, query)
        if action == "save":
            if item.state in (State.ACCEPTED, State.CORRECTED) and value == item.final_value:
                return self._go_on(request, item, query)  # nothing changed: on to the next one
            action = "accept" if value == item.reading else "correct"
        try:
            if action == "correct":
                services.correct(request.user, item, value)
            else:
                getattr(services, action)(request.user, item)
        except ValidationError as error:
            form.add_error("value" if action == "correct" else None, error)
            return self._render(request, item, form, status=400)
        except services.ReviewConflict as error:
            return self._render(request, item, form, status=409, conflict=str(error))
        undo_stack = request.session.get("review_undo", [])
        request.session["review_undo"] = [*undo_stack, item.pk][-UNDO_DEPTH:]
        return self._go_on(request, item, query)

    def _undo(self, request, item, query):
        """Take back the reviewer's last decision (made from these pages, on whichever item), else the
        current item's last one, and show that item again. A decision of theirs that a colleague has since
        changed is not theirs to take back any more."""
        undo_stack = request.session.get("review_undo", [])
        if undo_stack:
            request.session["review_undo"] = undo_stack[:-1]
            item = selectors.review_item_of(request.user, undo_stack[-1])
            effective = selectors.effective_actions(item)
            if not effective or effective[-1].actor_id != request.user.pk:
                messages.error(request, gettext(
                    "%(batch)s #%(position)s was changed since your decision: nothing undone."
                ) % {"batch": item.batch, "position": item.position})
                return redirect(_review_url(item, query))
        try:
            services.undo(request.user, item)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except services.ReviewConflict as error:
            messages.error(request, str(error))
        else:
            messages.info(request, gettext("Undone: %(batch)s #%(position)s.")
                          % {"batch": item.batch, "position": item.position})
        return redirect(_review_url(item, query))

    def _go_on(self, request, item, query, forward=True):
        _, arguments = _filters(request)
        queue = selectors.review_queue(request.user, **(arguments or {}))
        following = selectors.neighbour_in_queue(queue, item, request.user, forward=forward)
        if following is None:
            if forward:
                messages.success(request, gettext("The queue is empty: nothing more to review here."))
            return redirect(f"{reverse('review-queue')}?{query}" if forward else _review_url(item, query))
        return redirect(_review_url(following, query))

    def _render(self, request, item, form, status=200, conflict=None):
        item = selectors.review_item_of(request.user, item.pk)  # its state as it is now
        _, arguments = _filters(request)
        queue = selectors.review_queue(request.user, **(arguments or {}))
        query = _queue_query(request)
        following = selectors.neighbour_in_queue(queue, item, request.user)
        return render(request, self.template_name, {
            "item": item, "prediction": item.prediction, "form": form, "conflict": conflict,
            "reviewable": item.state in selectors.REVIEWABLE, "history": selectors.history_of(item),
            "next_item": following, "query": query, "queue_size": queue.count(),
            "queue_url": f"{reverse('review-queue')}?{query}",
        }, status=status)


class AcceptAboveView(OfficialRequiredMixin, View):
    """Bulk acceptance in two steps: GET says how many items it would accept, POST (confirm) accepts them."""

    template_name = "batches/accept_above.html"

    def get(self, request):
        form = AcceptAboveForm(request.user, request.GET)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        batch, confidence = form.cleaned_data["batch"], float(form.cleaned_data["confidence"]) / 100
        return render(request, self.template_name, {
            "form": form, "batch": batch, "count": selectors.count_above(batch, confidence, request.user),
        })

    def post(self, request):
        form = AcceptAboveForm(request.user, request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        batch, confidence = form.cleaned_data["batch"], float(form.cleaned_data["confidence"]) / 100
        accepted = services.accept_above(request.user, batch, confidence)
        messages.success(request, ngettext(
            "%(count)d item of %(batch)s accepted.", "%(count)d items of %(batch)s accepted.", accepted,
        ) % {"count": accepted, "batch": batch})
        return redirect(f"{reverse('review-queue')}?batch={batch.pk}")
