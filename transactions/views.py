"""HTML pages. Thin: each view reads through selectors, writes through services."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.models import Job
from transactions.models import Company


@login_required
def home(request: HttpRequest) -> HttpResponse:
    companies = Company.objects.for_user(request.user)
    jobs = Job.objects.for_user(request.user).select_related("company")[:20]
    return render(request, "transactions/home.html", {"companies": companies, "jobs": jobs})
