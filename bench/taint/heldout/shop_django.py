"""Django shop: class-based views and DRF (held-out cases)."""

import os
import pickle
import subprocess

import requests
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.html import escape
from django.views import View
from lxml import etree
from rest_framework.response import Response
from rest_framework.views import APIView

CATALOG = etree.parse("catalog.xml")
EXPORT_DIR = "/srv/exports"


class ProductView(View):
    def get(self, request, slug):
        with connection.cursor() as cur:
            cur.execute("SELECT * FROM product WHERE slug = '%s'" % slug)  # expect: CWE-89
            row = cur.fetchone()
        return HttpResponse(escape(str(row)))


class ProductSafeView(View):
    def get(self, request, slug):
        with connection.cursor() as cur:
            cur.execute("SELECT * FROM product WHERE slug = %s", [slug])  # expect: safe
            row = cur.fetchone()
        return HttpResponse(escape(str(row)))


class SearchView(View):
    def get(self, request):
        q = self.request.GET.get("q", "")
        return HttpResponse("<h2>Results for " + q + "</h2>")  # expect: CWE-79


class ExportView(APIView):
    def post(self, request):
        name = request.data["name"]
        path = os.path.join(EXPORT_DIR, name)
        with open(path, "w") as fh:  # expect: CWE-22
            fh.write("id,total\n")
        return Response({"path": path})


class RestoreView(APIView):
    def post(self, request):
        state = pickle.loads(request.data["blob"].encode("latin-1"))  # expect: CWE-502
        return Response({"ok": bool(state)})


class LookupView(APIView):
    def get(self, request):
        code = request.query_params.get("code", "")
        nodes = CATALOG.xpath("//item[@code='" + code + "']")  # expect: CWE-643
        return Response({"n": len(nodes)})


class LookupSafeView(APIView):
    def get(self, request):
        code = request.query_params.get("code", "")
        nodes = CATALOG.xpath("//item[@code=$c]", c=code)  # expect: safe
        return Response({"n": len(nodes)})


class FetchView(APIView):
    def post(self, request):
        r = requests.get(request.data["url"], timeout=5)  # expect: CWE-918
        return Response({"status": r.status_code})


class FetchSafeView(APIView):
    def post(self, request):
        r = requests.get("https://api.example.com/v2/items", params={"id": request.data["id"]}, timeout=5)  # expect: safe
        return Response({"status": r.status_code})


def next_page(request):
    nxt = request.GET.get("next", "/")
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = "/"
    return HttpResponseRedirect(nxt)  # expect: safe


def continue_to(request):
    return redirect(request.POST.get("continue", "/"))  # expect: CWE-601


def zip_export(request, export_id):
    subprocess.run(f"zip -r /tmp/{export_id}.zip {EXPORT_DIR}", shell=True)  # expect: CWE-78
    return HttpResponse("ok", content_type="text/plain")


def cart_add(request):
    cart = request.session.get("cart", {})
    cart[request.POST["sku"]] = int(request.POST.get("qty", "1"))
    request.session["cart"] = cart  # expect: CWE-501
    return HttpResponse("ok", content_type="text/plain")


def remember_coupon(request):
    request.session["coupon"] = request.GET.get("coupon", "").strip()  # expect: CWE-501
    return HttpResponse("ok", content_type="text/plain")


def calc_shipping(request):
    expr = request.GET.get("formula", "0")
    return HttpResponse(str(eval(expr)), content_type="text/plain")  # expect: CWE-94
