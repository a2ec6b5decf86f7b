"""FastAPI people search over LDAP and XML."""

import ldap
from fastapi import FastAPI
from ldap.filter import filter_format
from lxml import etree

app = FastAPI()
DOC = etree.parse("people.xml")


@app.get("/people")
def people(q: str):
    c = ldap.initialize("ldap://ldap.example.com")
    res = c.search_ext_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, "(|(cn=*%s*)(mail=*%s*))" % (q, q))  # expect: CWE-90
    return {"n": len(res)}


@app.get("/people-safe")
def people_safe(q: str):
    c = ldap.initialize("ldap://ldap.example.com")
    res = c.search_ext_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, filter_format("(cn=*%s*)", [q]))  # expect: safe
    return {"n": len(res)}


@app.get("/xml/{dept}")
def by_dept(dept: str):
    return {"names": DOC.xpath("//person[dept='%s']/name/text()" % dept)}  # expect: CWE-643


@app.get("/xml-id/{pid}")
def by_id(pid: int):
    return {"names": DOC.xpath(f"//person[@id={pid}]/name/text()")}  # expect: safe
