from django.urls import path

from rules.api import views

urlpatterns = [
    path("rules/", views.RuleListApi.as_view(), name="api-rule-list"),
    path("rules/test", views.RuleTestApi.as_view(), name="api-rule-test"),
    path("rules/bulk", views.RuleBulkApi.as_view(), name="api-rule-bulk"),
    path("rules/export", views.RuleExportApi.as_view(), name="api-rule-export"),
    path("rules/<int:rule_id>", views.RuleDetailApi.as_view(), name="api-rule-detail"),
    path("rules/<int:rule_id>/approve", views.RuleApproveApi.as_view(), name="api-rule-approve"),
    path("rules/<int:rule_id>/reject", views.RuleRejectApi.as_view(), name="api-rule-reject"),
    path("rules/<int:rule_id>/retire", views.RuleRetireApi.as_view(), name="api-rule-retire"),
]
