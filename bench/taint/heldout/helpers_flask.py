"""Flask app whose sinks sit in helper functions (held-out cases; a flow into a helper's
parameter needs inter-procedural analysis)."""

import os
import sqlite3

from flask import Flask, request

app = Flask(__name__)


def run_query(where: str):
    return sqlite3.connect("x.db").execute("SELECT * FROM t WHERE " + where).fetchall()  # expect: CWE-89


def ping(host: str) -> int:
    return os.system("ping -c1 " + host)  # expect: CWE-78


@app.route("/q")
def q():
    return {"rows": run_query(request.args["where"])}


@app.route("/ping")
def do_ping():
    return {"code": ping(request.args["host"])}


def fixed_query():
    return sqlite3.connect("x.db").execute("SELECT * FROM t").fetchall()  # expect: safe


def local_ping():
    return os.system("ping -c1 localhost")  # expect: safe
