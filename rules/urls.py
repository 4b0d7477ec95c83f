from django.urls import path

from rules import views

app_name = "rules"
urlpatterns = [
    path("", views.company_list, name="company-list"),
    path("<slug:company_slug>/", views.rule_list, name="rule-list"),
    path("<slug:company_slug>/new/", views.rule_new, name="rule-new"),
    path("<slug:company_slug>/review/", views.rule_review, name="rule-review"),
    path("<slug:company_slug>/<int:rule_id>/edit/", views.rule_edit, name="rule-edit"),
    path("<slug:company_slug>/<int:rule_id>/retire/", views.rule_retire_view, name="rule-retire"),
]
