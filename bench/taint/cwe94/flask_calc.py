"""Flask calculator and template preview."""

import ast

from flask import Flask, jsonify, render_template_string, request

app = Flask(__name__)
OPERATIONS = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}


def evaluate(expression: str):
    return eval(expression)  # expect: CWE-94


@app.route("/calc")
def calc():
    expr = request.args.get("expr", "1+1")
    return jsonify(result=evaluate(expr))


@app.route("/calc-literal")
def calc_literal():
    expr = request.args.get("expr", "[]")
    return jsonify(result=ast.literal_eval(expr))  # expect: safe


@app.route("/op")
def op():
    name = request.args.get("op", "add")
    fn = OPERATIONS.get(name)
    return str(fn(1, 2)) if fn else "unknown"  # expect: safe


@app.post("/script")
def script():
    source = request.get_data(as_text=True)
    scope = {}
    exec(source, scope)  # expect: CWE-94
    return str(scope.get("result"))


@app.post("/compile")
def compile_it():
    body = request.json["code"]
    code = compile(body, "<user>", "exec")  # expect: CWE-94
    return str(code.co_names)


@app.get("/preview")
def preview():
    title = request.args.get("title", "")
    return render_template_string("<h1>" + title + "</h1>")  # expect: CWE-1336


@app.get("/preview-safe")
def preview_safe():
    title = request.args.get("title", "")
    return render_template_string("<h1>{{ title }}</h1>", title=title)  # expect: safe


@app.get("/version")
def version():
    return str(eval("1 + 2"))  # expect: safe
