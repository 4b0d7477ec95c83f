from django.urls import path

from decisions.api import views

urlpatterns = [
    path("transactions/<int:transaction_id>/decisions", views.TransactionDecisionListApi.as_view(),
         name="api-transaction-decisions"),
    path("transactions/<int:transaction_id>/categorize", views.TransactionCategorizeApi.as_view(),
         name="api-transaction-categorize"),
]
