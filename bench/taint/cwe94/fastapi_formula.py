"""FastAPI spreadsheet-formula service."""

from fastapi import Body, FastAPI, Request
from jinja2 import Environment, Template

app = FastAPI()
env = Environment(autoescape=True)


@app.post("/formula")
def formula(expr: str = Body(..., embed=True)):
    return {"value": eval(expr, {"__builtins__": {}})}  # expect: CWE-94


@app.post("/formula-int")
def formula_int(n: int = Body(..., embed=True)):
    return {"value": eval(f"{n} * 2")}  # expect: safe


@app.post("/macro")
async def macro(request: Request):
    payload = await request.json()
    code = payload["code"]
    exec(code)  # expect: CWE-94
    return {"ok": True}


@app.get("/greet")
def greet(name: str):
    return {"html": Template("Hello " + name).render()}  # expect: CWE-1336


@app.get("/greet-safe")
def greet_safe(name: str):
    return {"html": env.from_string("Hello {{ name }}").render(name=name)}  # expect: safe


@app.get("/config")
def config():
    exec("import json")  # expect: safe
    return {"ok": True}
