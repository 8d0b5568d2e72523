from django.urls import path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("draw/", views.DrawView.as_view(), name="draw"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("predictions/", views.HistoryView.as_view(), name="history"),
    path("predictions/<uuid:pk>/", views.PredictionDetailView.as_view(), name="prediction-detail"),
    path("predictions/<uuid:pk>/panel/", views.PredictionPanelView.as_view(), name="prediction-panel"),
    path("predictions/<uuid:pk>/image/", views.PredictionImageView.as_view(), name="prediction-image"),
    path("predictions/<uuid:pk>/thumbnail/", views.PredictionThumbnailView.as_view(), name="prediction-thumbnail"),
    path("predictions/<uuid:pk>/delete/", views.PredictionDeleteView.as_view(), name="prediction-delete"),
]
