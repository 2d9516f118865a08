"""Local stand-ins for MWAA: a boto3-shaped ``mwaa`` client and the web server's login.

:class:`MwaaStandIn` answers ``invoke_rest_api`` by calling a real Airflow's REST API v2 and
enforces what MWAA documents for InvokeRestApi: a path of at most 64 characters
(``ValidationException``, as the service model's ``RestApiPath`` constraint would be reported),
answers of at most 6 MB, and about 10 requests a second (``ThrottlingException`` when more than
``rate`` requests fall within one second of its clock). Airflow's 4xx/5xx answers become
``RestApiClientException``/``RestApiServerException`` carrying ``RestApiStatusCode`` and
``RestApiResponse``, as MWAA reports them. The size and rate errors' exact codes are not
documented by AWS; these are modelled.

:class:`WebServerStandIn` plays the environment's web server: ``POST
/pluginsv2/aws_mwaa/login`` exchanges the one-time token that the stand-in's
``create_web_login_token`` handed out for a ``_token`` cookie holding a real Airflow JWT, and
every other request is passed to the real Airflow unchanged.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

MAX_PATH = 64
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


def client_error(code: str, message: str, operation: str = "InvokeRestApi", **extra: Any) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
        **extra,
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


def http_call(
    base_url: str, method: str, path: str, *, token: str, query: dict[str, Any] | None, body: Any
) -> tuple[int, bytes]:
    url = base_url + "/api/v2" + urllib.parse.quote(path, safe="/~:+@=,")
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class MwaaStandIn:
    """A fake ``boto3.client("mwaa")`` in front of a real Airflow (see the module docstring)."""

    airflow_url: str
    token: Callable[[], str]
    environment_name: str = "dr-standin"
    clock: Callable[[], float] = time.monotonic
    rate: float = 10.0
    max_path: int = MAX_PATH
    max_response_bytes: int = MAX_RESPONSE_BYTES
    web_hostname: str = "127.0.0.1"
    web_token: str = "one-time-web-token"
    airflow_options: dict[str, str] = field(default_factory=dict)
    accepted: list[float] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=lambda: {"path": 0, "size": 0, "rate": 0})
    max_bytes_returned: int = 0
    meta: Any = field(default_factory=lambda: SimpleNamespace(region_name="us-east-1"))

    def _check_name(self, name: str, operation: str) -> None:
        if name != self.environment_name:
            raise client_error("ResourceNotFoundException", f"Environment {name} not found", operation)

    def invoke_rest_api(
        self,
        *,
        Name: str,
        Path: str,
        Method: str,
        QueryParameters: dict[str, Any] | None = None,
        Body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self._check_name(Name, "InvokeRestApi")
        if len(Path) > self.max_path:
            self.refused["path"] += 1
            raise client_error(
                "ValidationException",
                "1 validation error detected: Value at 'path' failed to satisfy constraint: "
                f"Member must have length less than or equal to {self.max_path}",
            )
        now = self.clock()
        recent = [t for t in self.accepted if t > now - 1.0]
        if len(recent) >= self.rate:
            self.refused["rate"] += 1
            raise client_error("ThrottlingException", "Rate exceeded")
        self.accepted = [*recent, now]
        self.calls.append((Method, Path))
        status, raw = http_call(
            self.airflow_url, Method, Path, token=self.token(), query=QueryParameters, body=Body
        )
        if len(raw) > self.max_response_bytes:
            self.refused["size"] += 1
            raise client_error(
                "ValidationException",
                f"Response size of {len(raw)} bytes exceeds the maximum allowed size of 6 MB",
            )
        self.max_bytes_returned = max(self.max_bytes_returned, len(raw))
        body = json.loads(raw) if raw else None
        if status >= 500:
            raise client_error(
                "RestApiServerException",
                "Airflow server error",
                RestApiStatusCode=status,
                RestApiResponse=body,
            )
        if status >= 400:
            raise client_error(
                "RestApiClientException",
                "Airflow client error",
                RestApiStatusCode=status,
                RestApiResponse=body,
            )
        return {"RestApiStatusCode": status, "RestApiResponse": body}

    def create_web_login_token(self, *, Name: str) -> dict[str, Any]:
        self._check_name(Name, "CreateWebLoginToken")
        return {
            "WebServerHostname": self.web_hostname,
            "WebToken": self.web_token,
            "IamIdentity": "assumed-role/Admin/dr-tests",
            "AirflowIdentity": "admin",
        }

    def get_environment(self, *, Name: str) -> dict[str, Any]:
        self._check_name(Name, "GetEnvironment")
        return {
            "Environment": {
                "Name": Name,
                "Status": "AVAILABLE",
                "AirflowVersion": "3.3.1",
                "AirflowConfigurationOptions": dict(self.airflow_options),
            }
        }


class WebServerStandIn:
    """The web server's login exchange in front of a real Airflow (see the module docstring)."""

    def __init__(self, *, airflow_url: str, token: Callable[[], str], web_token: str) -> None:
        self.airflow_url = airflow_url
        self.token = token
        self.web_token = web_token
        self.logins = 0
        self.requests = 0
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

            def _forward(self) -> None:
                stand_in.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                if self.path == "/pluginsv2/aws_mwaa/login" and self.command == "POST":
                    form = urllib.parse.parse_qs((data or b"").decode())
                    if form.get("token", [""])[0] != stand_in.web_token:
                        self._answer(403, b'{"detail": "invalid or expired web login token"}', {})
                        return
                    stand_in.logins += 1
                    cookie = f"_token={stand_in.token()}; Path=/; Secure; SameSite=Lax"
                    self._answer(302, b"", {"Location": "/", "Set-Cookie": cookie})
                    return
                request = urllib.request.Request(
                    stand_in.airflow_url + self.path, data=data, method=self.command
                )
                for header in ("Authorization", "Content-Type", "Accept"):
                    if self.headers.get(header):
                        request.add_header(header, self.headers[header])
                try:
                    with urllib.request.urlopen(request, timeout=120) as response:
                        self._answer(response.status, response.read(), {})
                except urllib.error.HTTPError as error:
                    self._answer(error.code, error.read(), {})

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def hostname(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
