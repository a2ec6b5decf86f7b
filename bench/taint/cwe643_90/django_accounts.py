"""Django account lookup against LDAP (ldap3) and an XML catalogue."""

import xml.etree.ElementTree as ET

from django.http import JsonResponse
from ldap3 import SUBTREE, Connection, Server
from ldap3.utils.conv import escape_filter_chars
from lxml import etree

SERVER = Server("ldap://ldap.example.com")
CATALOGUE = etree.parse("catalogue.xml")
TREE = ET.parse("catalogue.xml")


def lookup(request):
    mail = request.GET["mail"]
    c = Connection(SERVER, auto_bind=True)
    c.search("dc=example,dc=com", "(mail=%s)" % mail, SUBTREE)  # expect: CWE-90
    return JsonResponse({"n": len(c.entries)})


def lookup_safe(request):
    mail = request.GET["mail"]
    c = Connection(SERVER, auto_bind=True)
    c.search("dc=example,dc=com", "(mail=%s)" % escape_filter_chars(mail), SUBTREE)  # expect: safe
    return JsonResponse({"n": len(c.entries)})


def lookup_by_name(request, name):
    c = Connection(SERVER, auto_bind=True)
    c.search(search_base="dc=example,dc=com", search_filter=f"(cn={name})")  # expect: CWE-90
    return JsonResponse({"n": len(c.entries)})


def staff(request):
    c = Connection(SERVER, auto_bind=True)
    c.search("dc=example,dc=com", "(objectClass=person)")  # expect: safe
    return JsonResponse({"n": len(c.entries)})


def product(request):
    sku = request.GET["sku"]
    nodes = CATALOGUE.xpath(f"//product[sku='{sku}']")  # expect: CWE-643
    return JsonResponse({"n": len(nodes)})


def product_safe(request):
    sku = request.GET["sku"]
    nodes = CATALOGUE.xpath("//product[sku=$sku]", sku=sku)  # expect: safe
    return JsonResponse({"n": len(nodes)})


def category(request, cat):
    nodes = TREE.findall(".//product[@category='" + cat + "']")  # expect: CWE-643
    return JsonResponse({"n": len(nodes)})


def category_all(request):
    nodes = TREE.findall(".//product")  # expect: safe
    return JsonResponse({"n": len(nodes)})
