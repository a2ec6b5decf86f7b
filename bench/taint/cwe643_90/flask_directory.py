"""Flask staff directory backed by LDAP and an XML roster."""

import ldap
from flask import Flask, jsonify, request
from ldap.filter import escape_filter_chars
from lxml import etree

app = Flask(__name__)
ROSTER = etree.parse("roster.xml")
BASE_DN = "ou=people,dc=example,dc=com"


def conn():
    c = ldap.initialize("ldap://ldap.example.com")
    c.simple_bind_s("cn=reader,dc=example,dc=com", "")
    return c


@app.route("/person")
def person():
    uid = request.args.get("uid", "")
    result = conn().search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + uid + ")")  # expect: CWE-90
    return jsonify([dn for dn, _ in result])


@app.route("/person-safe")
def person_safe():
    uid = request.args.get("uid", "")
    flt = "(uid=%s)" % escape_filter_chars(uid)
    result = conn().search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)  # expect: safe
    return jsonify([dn for dn, _ in result])


@app.route("/group/<ou>")
def group(ou):
    result = conn().search_s(f"ou={ou},dc=example,dc=com", ldap.SCOPE_ONELEVEL, "(objectClass=*)")  # expect: CWE-90
    return jsonify([dn for dn, _ in result])


@app.route("/all")
def everyone():
    result = conn().search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(objectClass=person)")  # expect: safe
    return jsonify([dn for dn, _ in result])


@app.route("/roster")
def roster():
    team = request.args.get("team", "")
    names = ROSTER.xpath("//member[@team='" + team + "']/name/text()")  # expect: CWE-643
    return jsonify(names)


@app.route("/roster-safe")
def roster_safe():
    team = request.args.get("team", "")
    names = ROSTER.xpath("//member[@team=$team]/name/text()", team=team)  # expect: safe
    return jsonify(names)


@app.route("/roster-compiled")
def roster_compiled():
    role = request.args.get("role", "")
    find = etree.XPath(f"//member[@role='{role}']/name/text()")  # expect: CWE-643
    return jsonify(find(ROSTER))


@app.route("/roster-count")
def roster_count():
    return jsonify(ROSTER.xpath("count(//member)"))  # expect: safe
