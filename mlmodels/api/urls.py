from django.urls import path

from mlmodels.api import views

urlpatterns = [
    path("models/", views.ModelVersionListApi.as_view(), name="api-model-list"),
    path("models/train", views.ModelTrainApi.as_view(), name="api-model-train"),
    path("models/<int:version_id>", views.ModelVersionDetailApi.as_view(), name="api-model-detail"),
    path("models/<int:version_id>/activate", views.ModelVersionActivateApi.as_view(), name="api-model-activate"),
]
