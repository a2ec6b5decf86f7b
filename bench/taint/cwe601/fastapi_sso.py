"""FastAPI single sign-on callback."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

app = FastAPI()
TRUSTED = ("https://app.example.com/", "https://admin.example.com/")


@app.get("/callback")
def callback(return_to: str):
    return RedirectResponse(return_to)  # expect: CWE-601


@app.get("/callback-checked")
def callback_checked(return_to: str):
    if not return_to.startswith(TRUSTED):
        return RedirectResponse("/")  # expect: safe
    return RedirectResponse(return_to)  # expect: safe


@app.get("/r")
async def r(request: Request):
    dest = request.query_params.get("dest", "/")
    return RedirectResponse(url=dest, status_code=302)  # expect: CWE-601


@app.get("/docs-redirect/{page}")
def docs(page: str):
    return RedirectResponse(f"https://docs.example.com/{page}")  # expect: safe


@app.get("/open")
def open_url(u: str):
    return RedirectResponse("//" + u)  # expect: CWE-601
