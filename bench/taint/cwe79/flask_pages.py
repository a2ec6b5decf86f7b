"""Flask pages that echo user input."""

from html import escape

from flask import Flask, Response, jsonify, make_response, render_template, request
from markupsafe import Markup
from markupsafe import escape as m_escape

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "world")
    return "<h1>Hello " + name + "</h1>"  # expect: CWE-79


@app.route("/hello-escaped")
def hello_escaped():
    name = request.args.get("name", "world")
    return "<h1>Hello " + escape(name) + "</h1>"  # expect: safe


@app.route("/hello-template")
def hello_template():
    name = request.args.get("name", "world")
    return render_template("hello.html", name=name)  # expect: safe


@app.route("/search")
def search():
    q = request.args.get("q", "")
    return make_response(f"<p>No results for {q}</p>", 404)  # expect: CWE-79


@app.route("/search-json")
def search_json():
    q = request.args.get("q", "")
    return jsonify(query=q, results=[])  # expect: safe


@app.route("/banner")
def banner():
    text = request.cookies.get("banner", "")
    return render_template("page.html", banner=Markup("<b>" + text + "</b>"))  # expect: CWE-79


@app.route("/banner-safe")
def banner_safe():
    text = request.cookies.get("banner", "")
    return render_template("page.html", banner=Markup("<b>%s</b>") % text)  # expect: safe


@app.route("/user/<username>")
def user(username):
    body = "<div class='user'>{}</div>".format(username)
    return Response(body)  # expect: CWE-79


@app.route("/user-text/<username>")
def user_text(username):
    return Response("user: " + username, mimetype="text/plain")  # expect: safe


@app.route("/echo", methods=["POST"])
def echo():
    msg = request.form["msg"]
    return "<pre>%s</pre>" % m_escape(msg)  # expect: safe


@app.route("/static-page")
def static_page():
    return "<h1>Welcome</h1>"  # expect: safe
