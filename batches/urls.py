from django.urls import path

from . import views

urlpatterns = [
    path("", views.BatchListView.as_view(), name="batch-list"),
    path("new/", views.BatchCreateView.as_view(), name="batch-create"),
    path("<uuid:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path("<uuid:pk>/progress.json", views.BatchProgressView.as_view(), name="batch-progress"),
    path("<uuid:pk>/export.csv", views.BatchExportView.as_view(file_format="csv"), name="batch-export-csv"),
    path(
        "<uuid:pk>/export.json", views.BatchExportView.as_view(file_format="json"), name="batch-export-json",
    ),
    path("<uuid:batch_pk>/items/<int:pk>/image/", views.BatchItemImageView.as_view(), name="batch-item-image"),
    path(
        "<uuid:batch_pk>/items/<int:pk>/thumbnail/", views.BatchItemThumbnailView.as_view(),
        name="batch-item-thumbnail",
    ),
]
