from django.contrib import admin

from jobs.models import Job
from transactions.admin import ReadOnlyAdmin


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "progress", "company", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status", "company"]
