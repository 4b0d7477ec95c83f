from django.urls import path

from decisions.api import views

urlpatterns = [
    path("transactions/<int:transaction_id>/decisions", views.TransactionDecisionListApi.as_view(),
         name="api-transaction-decisions"),
    path("transactions/<int:transaction_id>/categorize", views.TransactionCategorizeApi.as_view(),
         name="api-transaction-categorize"),
    path("review/", views.ReviewQueueApi.as_view(), name="api-review-queue"),
    path("decisions/approve", views.DecisionBulkApproveApi.as_view(), name="api-decisions-approve"),
    path("decisions/<int:decision_id>/approve", views.DecisionApproveApi.as_view(), name="api-decision-approve"),
    path("decisions/<int:decision_id>/correct", views.DecisionCorrectApi.as_view(), name="api-decision-correct"),
]
