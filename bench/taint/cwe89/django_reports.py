"""Django views for a reporting page: raw SQL through the ORM and the connection cursor."""

from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import JsonResponse

from .models import Customer, Order


def customers_by_city(request):
    city = request.GET.get("city", "")
    people = Customer.objects.raw("SELECT * FROM shop_customer WHERE city = '%s'" % city)  # expect: CWE-89
    return JsonResponse({"names": [p.name for p in people]})


def customers_by_city_safe(request):
    city = request.GET.get("city", "")
    people = Customer.objects.raw("SELECT * FROM shop_customer WHERE city = %s", [city])  # expect: safe
    return JsonResponse({"names": [p.name for p in people]})


def order_totals(request):
    status = request.POST["status"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(total) FROM shop_order WHERE status = '" + status + "'")  # expect: CWE-89
        total = cursor.fetchone()[0]
    return JsonResponse({"total": total})


def order_totals_safe(request):
    status = request.POST["status"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(total) FROM shop_order WHERE status = %s", [status])  # expect: safe
        total = cursor.fetchone()[0]
    return JsonResponse({"total": total})


def filtered(request):
    clause = request.GET["where"]
    orders = Order.objects.extra(where=[clause])  # expect: CWE-89
    return JsonResponse({"count": orders.count()})


def filtered_safe(request):
    year = request.GET["year"]
    orders = Order.objects.filter(created__year=year)  # expect: safe
    return JsonResponse({"count": orders.count()})


def annotated(request):
    field = request.GET.get("field", "total")
    orders = Order.objects.annotate(v=RawSQL("SELECT %s FROM shop_order" % field, []))  # expect: CWE-89
    return JsonResponse({"count": orders.count()})


def by_customer(request, customer_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM shop_order WHERE customer_id = {customer_id}")  # expect: CWE-89
        rows = cursor.fetchall()
    return JsonResponse({"rows": rows})


def by_customer_int(request, customer_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM shop_order WHERE customer_id = {int(customer_id)}")  # expect: safe
        rows = cursor.fetchall()
    return JsonResponse({"rows": rows})


def stats(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, COUNT(*) FROM shop_order GROUP BY status")  # expect: safe
        rows = cursor.fetchall()
    return JsonResponse({"rows": rows})
