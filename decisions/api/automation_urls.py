from django.urls import path

from decisions.api.automation import AutomationApi

urlpatterns = [
    path("automation/", AutomationApi.as_view(), name="api-automation"),
]
