"""Django admin views that call out to system tools."""

import os
import subprocess

from django.http import HttpResponse, JsonResponse


def backup(request):
    target = request.POST.get("target", "db")
    cmd = "pg_dump " + target + " > /backups/" + target + ".sql"
    subprocess.Popen(cmd, shell=True)  # expect: CWE-78
    return JsonResponse({"started": True})


def backup_safe(request):
    target = request.POST.get("target", "db")
    subprocess.Popen(["pg_dump", "--dbname", target, "--file", "/backups/out.sql"])  # expect: safe
    return JsonResponse({"started": True})


def convert(request):
    upload = request.FILES["doc"]
    os.system("libreoffice --convert-to pdf '%s'" % upload.name)  # expect: CWE-78
    return HttpResponse("converting")


def whois(request, domain):
    result = subprocess.getoutput("whois " + domain)  # expect: CWE-78
    return HttpResponse(result, content_type="text/plain")


def whois_safe(request, domain):
    result = subprocess.run(["whois", domain], capture_output=True, text=True).stdout  # expect: safe
    return HttpResponse(result, content_type="text/plain")


def disk(request):
    out = subprocess.check_output("df -h /", shell=True)  # expect: safe
    return HttpResponse(out, content_type="text/plain")


def agent(request):
    ua = request.META.get("HTTP_USER_AGENT", "")
    os.system('logger "visit from ' + ua + '"')  # expect: CWE-78
    return HttpResponse("logged")


def agent_safe(request):
    ua = request.META.get("HTTP_USER_AGENT", "")
    subprocess.run(["logger", "visit from " + ua])  # expect: safe
    return HttpResponse("logged")
