from django.urls import path

from mlmodels import views

app_name = "mlmodels"
urlpatterns = [
    path("", views.company_list, name="company-list"),
    path("<slug:company_slug>/", views.model_list, name="model-list"),
    path("<slug:company_slug>/train/", views.model_train_view, name="model-train"),
    path("<slug:company_slug>/<int:version_id>/", views.model_detail, name="model-detail"),
    path("<slug:company_slug>/<int:version_id>/activate/", views.model_activate_view, name="model-activate"),
]
