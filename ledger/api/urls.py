from django.urls import path

from ledger.api.views import PostProposeApi

urlpatterns = [
    # The original design's endpoint name, kept for existing clients.
    path("post/propose", PostProposeApi.as_view(), name="api-post-propose"),
]
