from django.urls import path

from . import review_views

urlpatterns = [
    path("", review_views.ReviewQueueView.as_view(), name="review-queue"),
    path("<int:pk>/", review_views.ReviewItemView.as_view(), name="review-item"),
    path("accept-above/", review_views.AcceptAboveView.as_view(), name="review-accept-above"),
]
