"""Flask shop: product search and admin reports over sqlite3."""

import sqlite3

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
SORT_COLUMNS = {"name": "name", "price": "price", "newest": "created_at DESC"}


def db() -> sqlite3.Connection:
    return sqlite3.connect("shop.db")


def where_name(name: str) -> str:
    return "WHERE name LIKE '%" + name + "%'"


@app.route("/search")
def search():
    term = request.args.get("q", "")
    cur = db().cursor()
    cur.execute(f"SELECT id, name FROM products WHERE name LIKE '%{term}%'")  # expect: CWE-89
    return jsonify(cur.fetchall())


@app.route("/search2")
def search_safe():
    term = request.args.get("q", "")
    cur = db().cursor()
    cur.execute("SELECT id, name FROM products WHERE name LIKE ?", (f"%{term}%",))  # expect: safe
    return jsonify(cur.fetchall())


@app.route("/product/<pid>")
def product(pid):
    conn = db()
    row = conn.execute("SELECT * FROM products WHERE id = %s" % pid).fetchone()  # expect: CWE-89
    return jsonify(row)


@app.route("/product-by-int/<pid>")
def product_int(pid):
    conn = db()
    row = conn.execute("SELECT * FROM products WHERE id = %d" % int(pid)).fetchone()  # expect: safe
    return jsonify(row)


@app.post("/report")
def report():
    name = request.form["name"]
    sql = "SELECT * FROM products " + where_name(name)
    rows = db().execute(sql).fetchall()  # expect: CWE-89
    return jsonify(rows)


@app.get("/sorted")
def sorted_products():
    column = SORT_COLUMNS.get(request.args.get("sort", "name"), "name")
    rows = db().execute("SELECT * FROM products ORDER BY " + column).fetchall()  # expect: safe
    return jsonify(rows)


@app.get("/sorted2")
def sorted_products_checked():
    column = request.args.get("sort", "name")
    if column not in ("name", "price"):
        abort(400)
    rows = db().execute("SELECT * FROM products ORDER BY " + column).fetchall()  # expect: safe
    return jsonify(rows)


@app.get("/count")
def count():
    rows = db().execute("SELECT COUNT(*) FROM products").fetchall()  # expect: safe
    return jsonify(rows)


@app.post("/bulk")
def bulk():
    names = request.get_json()["names"]
    conn = db()
    conn.executemany("INSERT INTO tags(name) VALUES (?)", [(n,) for n in names])  # expect: safe
    conn.executescript("DELETE FROM tags WHERE name = '{}';".format(names[0]))  # expect: CWE-89
    return jsonify(ok=True)


@app.get("/by-header")
def by_header():
    tenant = request.headers.get("X-Tenant", "")
    cur = db().cursor()
    query = "SELECT * FROM orders WHERE tenant = '{t}'".format(t=tenant)
    cur.execute(query)  # expect: CWE-89
    return jsonify(cur.fetchall())
