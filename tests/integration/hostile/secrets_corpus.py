"""Planted secrets and near-misses: what redaction must remove, and what it must leave alone.

Every value is made here from a seeded generator, shaped like the real thing (prefix, alphabet,
length) but never a real credential, and never written out literally in this file. ``PLANTED``
holds one file per kind with the values that must not reach a model; ``NEAR_MISSES`` holds files
whose every line must come out of redaction unchanged (placeholders, references to where a
secret lives, lock-file hashes, UUIDs, commit ids, ordinary base64).

Used by the hostile-repository tests (the planted files go into a temporary repository and the
requests a local model server receives are searched) and by ``bench/secrets_bench.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"


def rand(seed: str, n: int, alphabet: str = ALNUM) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


def password(seed: str, n: int = 18) -> str:
    # letters, digits and the symbols real passwords carry (none that ends a token or a line)
    return rand(seed, n, ALNUM + "!%^*-_.~")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _pem(seed: str, label: str = "RSA PRIVATE KEY", lines: int = 8) -> str:
    body = [base64.b64encode(random.Random(f"{seed}{i}").randbytes(48)).decode() for i in range(lines)]
    return "\n".join([f"-----BEGIN {label}-----", *body, f"-----END {label}-----"])


@dataclass(frozen=True)
class Planted:
    kind: str  # what the reporter would call it
    path: str
    text: str  # the whole file
    values: tuple[str, ...]  # what must not be sent: not whole, not 12+ characters of it, not its base64


# -- the values ---------------------------------------------------------------------------------

STRIPE = "sk" + "_live_" + rand("stripe", 99)
STRIPE_TAIL = rand("stripe-split", 32)
JWT_HEAD = b64url(b'{"alg":"HS256","typ":"JWT"}')
JWT_BODY = b64url(json.dumps({"sub": "svc-billing", "iat": 1716239022, "scope": rand("jwt-scope", 24)}).encode())
JWT_SIG = rand("jwt-sig", 43, B64URL)
JWT = f"{JWT_HEAD}.{JWT_BODY}.{JWT_SIG}"
GH_TAIL = rand("github-split", 36)
GH_FSTRING_TAIL = rand("github-fstring", 36)
GLPAT_TAIL = rand("gitlab-join", 20, B64URL)
ENV_DB_PASSWORD = password("env-db")
ENV_SECRET_KEY = rand("env-secret", 50, ALNUM + "!@%^&*(-_=+)")
INNER_TOKEN = "sk" + "_live_" + rand("b64-inner", 40)
B64_TOKEN = base64.b64encode(f"STRIPE_KEY={INNER_TOKEN}\n".encode()).decode()
INNER_PASSWORD = password("b64-pw", 16)
B64_PASSWORD = base64.b64encode(f"user=deploy\npassword={INNER_PASSWORD}\nhost=db.internal\n".encode()).decode()
INNER_PEM = _pem("b64-pem", "OPENSSH PRIVATE KEY", 6)
B64_PEM = base64.b64encode(INNER_PEM.encode()).decode()
URL_PASSWORD = password("url-pw", 20)
GIT_URL_PASSWORD = password("git-url-pw", 16)
BEARER = rand("bearer", 40, ALNUM + "-_.")
BASIC_USERPASS = f"ci-bot:{password('basic-pw', 16)}"
BASIC = base64.b64encode(BASIC_USERPASS.encode()).decode()
PEM = _pem("pem")
PEM_BODY = PEM.splitlines()[1:-1]
SA_PEM = _pem("service-account", "PRIVATE KEY", 6)
YAML_PASSWORD = password("yaml-pw")
YAML_API_KEY = rand("yaml-api", 32)
JSON_CLIENT_SECRET = rand("json-client-secret", 40, ALNUM + "~._-")
JSON_API_KEY = rand("json-api", 39)
INI_PASSWORD = password("ini-pw")
TOML_TOKEN = rand("toml-token", 40)
DOCKER_PASSWORD = password("docker-pw")
DOCKER_NPM = "npm_" + rand("docker-npm", 36)
AWS_ID = "AKIA" + rand("aws-id", 16, string.ascii_uppercase + "234567")
AWS_SECRET = rand("aws-secret", 40, ALNUM + "/+")
OPENAI_KEY = "sk-proj-" + rand("openai", 74, B64URL) + "T3BlbkFJ" + rand("openai2", 74, B64URL)
DEEPSEEK_KEY = "sk-" + rand("deepseek", 32, HEX)
GH_PAT = "github_pat_" + rand("gh-pat1", 22) + "_" + rand("gh-pat2", 59)
SLACK = "xoxb-" + rand("slack1", 12, string.digits) + "-" + rand("slack2", 13, string.digits) + "-" + rand("slack3", 24)
GOOGLE = "AIza" + rand("google", 35, B64URL)
KWARG_PASSWORD = password("kwarg-pw")
JS_API_KEY = rand("js-api", 32, HEX)
GO_PASSWORD = password("go-pw")
NPMRC = "npm_" + rand("npmrc", 36)
SHELL_TOKEN = rand("shell-token", 40)
PROPS_PASSWORD = password("props-pw")
XML_PASSWORD = password("xml-pw")
HF_TOKEN = "hf_" + rand("hf", 34)
ANTHROPIC = "sk-ant-api03-" + rand("anthropic", 93, B64URL) + "AA"


PLANTED: list[Planted] = [
    Planted("env-file", "deploy/.env",
            f"# local settings\nDEBUG=false\nDB_PASSWORD={ENV_DB_PASSWORD}\nSECRET_KEY='{ENV_SECRET_KEY}'\nPORT=8080\n",
            (ENV_DB_PASSWORD, ENV_SECRET_KEY)),
    Planted("stripe-live-key", "billing/stripe_client.py",
            f'import stripe\n\nstripe.api_key = "{STRIPE}"\n\n\ndef charge(amount):\n    return stripe.Charge.create(amount=amount)\n',
            (STRIPE,)),
    Planted("jwt", "web/auth.js",
            f"// service token for the billing API\nconst SERVICE_JWT = '{JWT}';\nmodule.exports = {{ SERVICE_JWT }};\n",
            (JWT, JWT_SIG, JWT_BODY)),
    Planted("concat-plus", "billing/split.py",
            f'STRIPE_KEY = "sk_live_" + "{STRIPE_TAIL}"\n',
            (STRIPE_TAIL,)),
    Planted("concat-implicit", "ci/token.py",
            f'GITHUB_TOKEN = (\n    "ghp_"\n    "{GH_TAIL}"\n)\n',
            (GH_TAIL,)),
    Planted("f-string", "ci/fstring.py",
            f'SUFFIX = ""\nTOKEN = f"ghp_{{SUFFIX}}{GH_FSTRING_TAIL}"\n',
            (GH_FSTRING_TAIL,)),
    Planted("js-join", "web/join.js",
            f"const token = ['glpat-', '{GLPAT_TAIL}'].join('');\n",
            (GLPAT_TAIL,)),
    Planted("base64-token", "config/blob.py",
            f'BLOB = "{B64_TOKEN}"\n', (INNER_TOKEN, B64_TOKEN)),
    Planted("base64-password", "config/settings_b64.txt",
            f"{B64_PASSWORD}\n", (INNER_PASSWORD, B64_PASSWORD)),
    Planted("base64-private-key", "config/key_b64.yaml",
            f"ssh:\n  key_data: {B64_PEM}\n", (B64_PEM,)),
    Planted("url-credentials", "app/db.py",
            f'DATABASE_URL = "postgres://admin:{URL_PASSWORD}@db.internal:5432/app"\n'
            f'MIRROR = "https://deploy:{GIT_URL_PASSWORD}@git.example.com/team/repo.git"\n',
            (URL_PASSWORD, GIT_URL_PASSWORD)),
    Planted("authorization-header", "scripts/call_api.sh",
            f'#!/bin/sh\ncurl -s https://api.example.com/v1/items \\\n  -H "Authorization: Bearer {BEARER}"\n'
            f"curl -s -H 'Authorization: Basic {BASIC}' https://ci.example.com/job\n",
            (BEARER, BASIC, BASIC_USERPASS)),
    Planted("private-key-pem", "deploy/id_rsa", PEM + "\n", tuple(PEM_BODY)),
    Planted("private-key-json", "deploy/service-account.json",
            json.dumps({"type": "service_account", "project_id": "demo-project",
                        "private_key_id": rand("sa-id", 40, HEX), "private_key": SA_PEM + "\n",
                        "client_email": "svc@demo-project.iam.gserviceaccount.com"}, indent=2) + "\n",
            tuple(SA_PEM.splitlines()[1:-1])),
    Planted("yaml-config", "config/production.yaml",
            f"database:\n  host: db.internal\n  user: app\n  password: {YAML_PASSWORD}\n"
            f'payments:\n  api_key: "{YAML_API_KEY}"\n',
            (YAML_PASSWORD, YAML_API_KEY)),
    Planted("json-config", "config/oauth.json",
            json.dumps({"client_id": "web-app", "client_secret": JSON_CLIENT_SECRET, "apiKey": JSON_API_KEY},
                       indent=2) + "\n",
            (JSON_CLIENT_SECRET, JSON_API_KEY)),
    Planted("ini-toml-config", "config/app.ini",
            f"[database]\nhost = db.internal\npassword = {INI_PASSWORD}\n\n[upload]\ntoken = \"{TOML_TOKEN}\"\n",
            (INI_PASSWORD, TOML_TOKEN)),
    Planted("dockerfile", "Dockerfile",
            f"FROM python:3.12-slim\nENV DB_PASSWORD={DOCKER_PASSWORD}\nARG NPM_TOKEN={DOCKER_NPM}\n"
            "ENV PATH=/usr/local/bin:$PATH\nCMD [\"python\", \"-m\", \"app\"]\n",
            (DOCKER_PASSWORD, DOCKER_NPM)),
    Planted("aws-credentials", "deploy/aws_credentials",
            f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\nregion = eu-west-1\n",
            (AWS_ID, AWS_SECRET)),
    Planted("model-api-keys", "app/llm.py",
            f'OPENAI_API_KEY = "{OPENAI_KEY}"\nDEEPSEEK = "{DEEPSEEK_KEY}"\nCLAUDE = "{ANTHROPIC}"\nHF = "{HF_TOKEN}"\n',
            (OPENAI_KEY, DEEPSEEK_KEY, ANTHROPIC, HF_TOKEN)),
    Planted("forge-and-chat-tokens", "ci/tokens.rb",
            f'GH = "{GH_PAT}"\nSLACK = "{SLACK}"\nMAPS = "{GOOGLE}"\n',
            (GH_PAT, SLACK, GOOGLE)),
    Planted("keyword-argument", "app/connect.py",
            f'conn = psycopg.connect(host="db.internal", user="app", password="{KWARG_PASSWORD}")\n',
            (KWARG_PASSWORD,)),
    Planted("js-go-assignments", "web/client.ts",
            f"const apiKey = '{JS_API_KEY}';\n// go: dbPassword := \"{GO_PASSWORD}\"\n",
            (JS_API_KEY, GO_PASSWORD)),
    Planted("npmrc", ".npmrc", f"//registry.npmjs.org/:_authToken={NPMRC}\n", (NPMRC,)),
    Planted("shell-export", "scripts/env.sh", f"export DEPLOY_TOKEN={SHELL_TOKEN}\nexport REGION=eu\n", (SHELL_TOKEN,)),
    Planted("java-properties", "src/main/resources/application.properties",
            f"spring.datasource.url=jdbc:postgresql://db/app\nspring.datasource.password={PROPS_PASSWORD}\n",
            (PROPS_PASSWORD,)),
    Planted("xml-config", "config/web.config",
            f'<configuration>\n  <add key="DbPassword" value="{XML_PASSWORD}" />\n</configuration>\n',
            (XML_PASSWORD,)),
]


def forms(value: str, min_len: int = 12) -> list[str]:
    """What counts as the value having been sent: itself, its base64, and (for a value of at least
    ``min_len`` characters) every ``min_len``-character piece of it."""
    out = {value, base64.b64encode(value.encode()).decode().rstrip("=")}
    if len(value) >= min_len:
        out.update(value[i : i + min_len] for i in range(len(value) - min_len + 1))
    return sorted(out)


def leaks(sent: str, values: tuple[str, ...] | list[str]) -> list[str]:
    """The values of which some form appears in ``sent``."""
    return [v for v in values if any(f in sent for f in forms(v))]


# -- near-misses: every line must come out unchanged ---------------------------------------------

_SHA = hashlib.sha1(b"near-miss").hexdigest()
_SHA256 = hashlib.sha256(b"near-miss").hexdigest()
_INTEGRITY = base64.b64encode(hashlib.sha512(b"left-pad").digest()).decode()
_UUID = "3f2c8a4e-9b1d-4c7e-8a2f-6d5e4c3b2a19"
_PROSE_B64 = base64.b64encode(b"This is an ordinary sentence that someone encoded for a test fixture.").decode()
_PNG_B64 = base64.b64encode(bytes(range(256)) * 2).decode()

NEAR_MISSES: dict[str, str] = {
    ".env.example": "DB_PASSWORD=changeme\nSECRET_KEY=\nAPI_KEY=${API_KEY}\nSTRIPE_KEY=<your-stripe-key>\nTOKEN=xxxxxxxx\n",
    "app/settings.py": (
        'import os\n\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDB_PASSWORD = os.getenv("DB_PASSWORD", "")\n'
        'API_KEY = settings.API_KEY\npassword = get_secret("prod/db")\nPASSWORD_MIN_LENGTH = 12\n'
        'PASSWORD_FIELD = "password"\nSECRET_KEY_ENV = "DJANGO_SECRET_KEY"\napi_key_header = "X-API-Key"\n'
        'secret_name = "prod/db"\ntoken_type = "Bearer"\nmax_tokens = 4096\n'
        "\n\ndef login(username: str, password: str) -> bool:\n"
        "    if password != confirm_password:\n        return False\n    self.password = password\n"
        '    headers = {"Authorization": f"Bearer {token}"}\n'
        '    return check_password(password, user.password_hash)\n'
    ),
    "web/env.js": (
        "const key = process.env.STRIPE_KEY;\nconst password = req.body.password;\n"
        "const headers = { Authorization: `Bearer ${token}` };\nlet apiKey: string;\n"
        "const schema = z.object({ password: z.string().min(8) });\n"
    ),
    "locales/en.json": json.dumps({"password": "Password", "forgot_password": "Forgot your password?",
                                   "api_key": "API key", "token_expired": "Your session has expired."},
                                  indent=2) + "\n",
    "package-lock.json": json.dumps({"packages": {"node_modules/left-pad": {
        "version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
        "integrity": f"sha512-{_INTEGRITY}"}}}, indent=2) + "\n",
    "poetry.lock": f'[[package]]\nname = "requests"\nfiles = [\n    {{file = "requests-2.32.3.tar.gz", hash = "sha256:{_SHA256}"}},\n]\n',
    "go.sum": f"golang.org/x/text v0.14.0 h1:{base64.b64encode(hashlib.sha256(b'x').digest()).decode()}\n",
    ".pre-commit-config.yaml": f"repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: {_SHA}\n",
    "app/ids.py": (
        f'REQUEST_ID = "{_UUID}"\nclient_id = "{_UUID}"\nCOMMIT = "{_SHA}"\nARCHIVE_SHA256 = "{_SHA256}"\n'
        f'FIXTURE = "{_PROSE_B64}"\nICON = "data:image/png;base64,{_PNG_B64}"\n'
        "def test_password_reset_token_expires_after_the_configured_interval(): ...\n"
    ),
    "config/values.yaml": (
        "database:\n  password: ${DB_PASSWORD}\n  passwordSecretRef: db-credentials\n"
        "  api_key: \"{{ .Values.apiKey }}\"\n  secret:\n    name: prod-db\n"
    ),
    "docs/urls.md": (
        "Clone with git@github.com:org/repo.git or https://user@example.com/repo.git.\n"
        "Connect to postgres://app:${DB_PASSWORD}@db/app or http://localhost:8080/health.\n"
        "Stripe keys look like sk_live_xxxxxxxxxxxxxxxxxxxxxxxx; use YOUR_API_KEY here.\n"
        "Send `Authorization: Bearer <token>` with every request.\n"
    ),
    "Dockerfile.dev": "FROM node:20\nARG NPM_TOKEN\nENV API_KEY=\"\"\nENV PATH=/app/node_modules/.bin:$PATH\n",
}
