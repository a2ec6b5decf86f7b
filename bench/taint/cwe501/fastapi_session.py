"""FastAPI app with Starlette's SessionMiddleware."""

from fastapi import FastAPI, Form, Request
from starlette.middleware.sessions import SessionMiddleware

app = FastAPI()
app.add_middleware(SessionMiddleware, secret_key="change-me")
CURRENCIES = ["EUR", "USD"]


@app.post("/currency")
async def currency(request: Request, code: str = Form(...)):
    request.session["currency"] = code  # expect: CWE-501
    return {"ok": True}


@app.post("/currency-checked")
async def currency_checked(request: Request, code: str = Form(...)):
    if code in CURRENCIES:
        request.session["currency"] = code  # expect: safe
    return {"ok": True}


@app.get("/ref")
async def ref(request: Request):
    request.session["referrer"] = request.headers.get("referer", "")  # expect: CWE-501
    return {"ok": True}


@app.get("/seen")
async def seen(request: Request):
    request.session["seen"] = True  # expect: safe
    return {"ok": True}


@app.get("/pick/{item_id}")
async def pick(request: Request, item_id: str):
    request.session.update({"picked": item_id})  # expect: CWE-501
    return {"ok": True}


@app.get("/pick-int/{item_id}")
async def pick_int(request: Request, item_id: int):
    request.session["picked"] = item_id  # expect: safe
    return {"ok": True}
