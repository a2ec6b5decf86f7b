"""Flask views that keep state in the session."""

from flask import Flask, abort, redirect, request, session

app = Flask(__name__)
app.secret_key = "change-me"
LANGUAGES = ("en", "de", "fr")


class User:
    query = None


@app.route("/lang")
def set_lang():
    session["lang"] = request.args.get("lang", "en")  # expect: CWE-501
    return redirect("/")


@app.route("/lang-checked")
def set_lang_checked():
    lang = request.args.get("lang", "en")
    if lang not in LANGUAGES:
        abort(400)
    session["lang"] = lang  # expect: safe
    return redirect("/")


@app.post("/login")
def login():
    username = request.form["username"]
    session["user"] = username  # expect: CWE-501
    return redirect("/")


@app.post("/login-db")
def login_db():
    user = User.query.filter_by(name=request.form["username"]).first_or_404()
    session["user_id"] = user.id  # expect: safe
    return redirect("/")


@app.route("/role")
def role():
    session["role"] = request.headers.get("X-Role", "viewer")  # expect: CWE-501
    return "ok"


@app.route("/page-size")
def page_size():
    session["page_size"] = int(request.args.get("n", "20"))  # expect: safe
    return "ok"


@app.route("/visit")
def visit():
    session["visits"] = session.get("visits", 0) + 1  # expect: safe
    return "ok"


@app.route("/cart/<item>")
def cart(item):
    items = session.get("cart", [])
    items.append(item)
    session["cart"] = items  # expect: CWE-501
    return "ok"
