from django.urls import path

from decisions import views

app_name = "decisions"
urlpatterns = [
    path("", views.review_index, name="review-index"),
    path("<slug:company_slug>/", views.review_queue_page, name="review-queue"),
    path("<slug:company_slug>/approve/", views.review_approve, name="review-approve"),
    path("<slug:company_slug>/correct/", views.review_correct, name="review-correct"),
]
