"""FastAPI job runner: start conversion jobs."""

import asyncio
import shlex
import subprocess

from fastapi import FastAPI, Form, Header

app = FastAPI()


@app.post("/convert")
async def convert(src: str = Form(...), fmt: str = Form("png")):
    proc = await asyncio.create_subprocess_shell(f"convert {src} out.{fmt}")  # expect: CWE-78
    await proc.wait()
    return {"code": proc.returncode}


@app.post("/convert-exec")
async def convert_exec(src: str = Form(...), fmt: str = Form("png")):
    proc = await asyncio.create_subprocess_exec("convert", src, f"out.{fmt}")  # expect: safe
    await proc.wait()
    return {"code": proc.returncode}


@app.get("/grep")
def grep(pattern: str, x_log: str = Header("app.log")):
    cmd = "grep -n {} /var/log/{}".format(pattern, x_log)
    return {"out": subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout}  # expect: CWE-78


@app.get("/grep-quoted")
def grep_quoted(pattern: str):
    cmd = "grep -n {} /var/log/app.log".format(shlex.quote(pattern))
    return {"out": subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout}  # expect: safe


@app.get("/run/{tool}")
def run_tool(tool: str):
    return {"code": subprocess.call(tool, shell=True)}  # expect: CWE-78


@app.get("/version")
def version():
    return {"out": subprocess.getoutput("git describe --tags")}  # expect: safe
