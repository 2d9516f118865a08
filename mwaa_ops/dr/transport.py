"""How requests reach the Airflow REST API v2: three transports behind one interface.

- :class:`UrlTransport`: a plain Airflow URL and a bearer token, either given or obtained from
  Airflow 3's ``POST /auth/token`` with a user name and password (local Airflow, tests).
- :class:`RestApiTransport`: MWAA's ``InvokeRestApi`` (boto3 ``mwaa.invoke_rest_api``). MWAA
  forwards the path relative to the API root (``/api/v2`` on Airflow 3, as the amazon provider's
  ``MwaaHook`` shows: airflow/providers/amazon/aws/hooks/mwaa.py). Its limits, from the MWAA user
  guide ("Using the Apache Airflow REST API") and the service model (``RestApiPath``: 1 to 64
  characters, botocore/data/mwaa/2020-07-01/service-2.json): paths of at most 64 characters,
  10 s per call, 6 MB per response, about 10 requests a second. Requests are paced under that
  rate and throttled ones are retried with :class:`mwaa_ops.airflow_api.Backoff`.
- :class:`WebLoginTransport`: the route AWS documents for more than InvokeRestApi allows. It
  calls ``mwaa.create_web_login_token``, posts the one-time token to
  ``https://{WebServerHostname}/pluginsv2/aws_mwaa/login`` (Airflow 3; ``/aws_mwaa/login`` on
  Airflow 2), and sends the ``_token`` cookie that the login sets as a bearer token to
  ``https://{WebServerHostname}/api/v2`` (the same exchange as ``MwaaHook``'s local-token
  fallback). No path, size or rate limit of MWAA's API applies; a private web server is only
  reachable from inside its VPC.

Every transport answers Airflow's JSON, raises :class:`ApiError` with Airflow's own detail for
4xx/5xx answers, :class:`PathTooLong` before sending a path InvokeRestApi would refuse, and
:class:`ResponseTooLarge` when an answer exceeds what the transport can return (callers page
smaller). Airflow's own 503 answers (a locked SQLite database, a busy API server) and 429s are
retried with the same backoff on every transport.
"""

from __future__ import annotations

import email.message
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.airflow_api import MAX_PATH_LENGTH, Backoff, PathTooLong
from mwaa_ops.aws import AwsClients
from mwaa_ops.errors import AwsError, OpsError, rest_error_detail, translate_botocore_error

# MWAA's documented InvokeRestApi limits (see the module docstring).
MWAA_MAX_RESPONSE_BYTES = 6 * 1024 * 1024
MWAA_TIMEOUT_SECONDS = 10.0
MWAA_REQUESTS_PER_SECOND = 10.0
# Requests are paced a little under MWAA's rate so that clock jitter does not cross it.
MWAA_PACED_RATE = 9.0
# Airflow 3's MWAA login plugin path, and the cookie it sets (MwaaHook._get_session_conn).
WEB_LOGIN_PATH = "/pluginsv2/aws_mwaa/login"
JWT_COOKIE = "_token"
API_ROOT = "/api/v2"
RETRIED_STATUS = frozenset({429, 503})


class ApiError(OpsError):
    """The Airflow REST API answered with an error status."""

    def __init__(self, message: str, *, status: int | None, detail: str, method: str, path: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.method = method
        self.path = path


class ResponseTooLarge(OpsError):
    """An answer above the transport's response limit (InvokeRestApi: 6 MB)."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What a transport allows, so that callers size pages and batches for it.

    ``page_size`` is the page of list calls; ``write_batch`` the entities per bulk write, sized
    so that one call stays well inside MWAA's 10 s (about 5 ms per task instance on Airflow
    3.3.1's bulk endpoint, measured locally)."""

    max_path: int | None = None
    max_response_bytes: int | None = None
    requests_per_second: float | None = None
    page_size: int = 500
    write_batch: int = 200


class Transport(Protocol):
    """One way to call the Airflow REST API v2; paths are relative to ``/api/v2``."""

    name: str
    limits: Limits

    def request(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> Any: ...

    def describe(self) -> dict[str, Any]: ...


def detail_of(body: object) -> str:
    """Airflow's error text from an error body, a body that is not JSON cut at 500 characters."""
    return rest_error_detail(body, limit=500)


def _api_error(status: int | None, body: object, *, method: str, path: str, where: str) -> ApiError:
    detail = detail_of(body)
    status_text = f"HTTP {status}" if status is not None else "an error"
    return ApiError(
        f"{method} {path} on {where} answered {status_text}: {detail}",
        status=status,
        detail=detail,
        method=method,
        path=path,
    )


# ---------------------------------------------------------------------------------- URL


class UrlTransport:
    """The REST API at ``base_url`` (``http://localhost:8080``) with a bearer token.

    ``authenticate`` returns a token; it is called on first use and again once after a 401,
    so that an expired token is renewed when it can be (user and password, web login)."""

    name = "url"

    def __init__(
        self,
        base_url: str,
        *,
        authenticate: Callable[[], str],
        backoff: Backoff | None = None,
        timeout: float = 120.0,
        limits: Limits | None = None,
        label: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._authenticate = authenticate
        self._token: str | None = None
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.limits = limits or Limits(page_size=500, write_batch=500)
        self.label = label or self.base_url
        self.calls = 0

    @classmethod
    def with_token(cls, base_url: str, token: str, **kwargs: Any) -> UrlTransport:
        return cls(base_url, authenticate=lambda: token, **kwargs)

    @classmethod
    def with_password(cls, base_url: str, username: str, password: str, **kwargs: Any) -> UrlTransport:
        """Airflow 3's own token endpoint (``POST /auth/token``, SimpleAuthManager and FAB)."""
        base = base_url.rstrip("/")

        def login() -> str:
            answer = _http_json(
                "POST",
                f"{base}/auth/token",
                body={"username": username, "password": password},
                headers={},
                timeout=30.0,
            )
            if answer.status >= 400 or not isinstance(answer.body, dict) or "access_token" not in answer.body:
                raise ApiError(
                    f"login as {username} at {base}/auth/token failed (HTTP {answer.status}): "
                    f"{detail_of(answer.body)}",
                    status=answer.status,
                    detail=detail_of(answer.body),
                    method="POST",
                    path="/auth/token",
                )
            return str(answer.body["access_token"])

        return cls(base, authenticate=login, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {"transport": self.name, "url": self.base_url}

    def request(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        url = self.base_url + API_ROOT + urllib.parse.quote(path, safe="/~:+@=,")
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        renewed = False
        for retry in range(self.backoff.attempts):
            if self._token is None:
                self._token = self._authenticate()
            self.calls += 1
            answer = _http_json(
                method,
                url,
                body=body,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self.timeout,
            )
            if answer.status == 401 and not renewed:
                self._token, renewed = None, True
                continue
            if answer.status in RETRIED_STATUS and retry + 1 < self.backoff.attempts:
                self.backoff.sleep(self.backoff.delay(retry))
                continue
            if answer.status >= 400:
                raise _api_error(answer.status, answer.body, method=method, path=path, where=self.label)
            return answer.body
        raise _api_error(429, "still refused after retries", method=method, path=path, where=self.label)


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any
    headers: email.message.Message


def _http_json(
    method: str,
    url: str,
    *,
    body: Any,
    headers: dict[str, str],
    timeout: float,
    form: dict[str, str] | None = None,
    follow_redirects: bool = True,
) -> _Answer:
    """One HTTP call with the standard library (the tool's runtime needs boto3 only)."""
    if form is not None:
        data: bytes | None = urllib.parse.urlencode(form).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        data = None if body is None else json.dumps(body).encode()
        content_type = "application/json"
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", content_type)
    request.add_header("Accept", "application/json")
    for key, value in headers.items():
        request.add_header(key, value)
    opener = urllib.request.build_opener() if follow_redirects else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return _Answer(response.status, _parse(response.read()), response.headers)
    except urllib.error.HTTPError as error:
        return _Answer(error.code, _parse(error.read()), error.headers)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise OpsError(f"cannot reach {url.split('?')[0]}: {getattr(error, 'reason', error)}") from error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keep the login's redirect answer, whose Set-Cookie carries the session token."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


# ---------------------------------------------------------------------------------- MWAA


class RestApiTransport:
    """MWAA's ``InvokeRestApi`` with its limits: path length, response size and rate.

    ``clock`` and ``sleep`` pace the requests (at most ``rate`` a second); throttled answers
    (``ThrottlingException``, HTTP 429) and Airflow's 503s are retried with ``backoff``."""

    name = "rest-api"

    def __init__(
        self,
        clients: AwsClients,
        environment_name: str,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rate: float | None = MWAA_PACED_RATE,
    ) -> None:
        self.clients = clients
        self.environment_name = environment_name
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._sleep = sleep
        self.rate = rate
        self._last_start: float | None = None
        self.limits = Limits(
            max_path=MAX_PATH_LENGTH,
            max_response_bytes=MWAA_MAX_RESPONSE_BYTES,
            requests_per_second=MWAA_REQUESTS_PER_SECOND,
            page_size=500,
            write_batch=100,
        )
        self.calls = 0
        self.throttled = 0

    def describe(self) -> dict[str, Any]:
        return {"transport": self.name, "environment": self.environment_name}

    def _pace(self) -> None:
        if self.rate is None:
            return
        now = self._clock()
        if self._last_start is not None:
            wait = self._last_start + 1.0 / self.rate - now
            if wait > 0:
                self._sleep(wait)
                now = self._clock()
        self._last_start = now

    def request(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        if len(path) > MAX_PATH_LENGTH:
            raise PathTooLong(
                f"REST path {path!r} has {len(path)} characters; InvokeRestApi accepts at most "
                f"{MAX_PATH_LENGTH} (use --transport web-login for it)"
            )
        params: dict[str, Any] = {"Name": self.environment_name, "Path": path, "Method": method}
        if query:
            params["QueryParameters"] = {k: v for k, v in query.items() if v is not None}
        if body is not None:
            params["Body"] = body
        target = f"environment {self.environment_name}"
        for retry in range(self.backoff.attempts):
            self._pace()
            self.calls += 1
            try:
                response = self.clients.client("mwaa").invoke_rest_api(**params)
            except ClientError as error:
                kind = _classify(error)
                if kind == "retry" and retry + 1 < self.backoff.attempts:
                    self.throttled += 1
                    self.backoff.sleep(self.backoff.delay(retry))
                    continue
                if kind == "retry":
                    raise AwsError(
                        f"InvokeRestApi on {target} is still throttled after {self.backoff.attempts} "
                        f"attempts (MWAA allows about 10 requests a second); retry later",
                        code="Throttled",
                    ) from error
                if kind == "too-large":
                    raise ResponseTooLarge(
                        f"{method} {path}: the answer exceeds InvokeRestApi's 6 MB limit"
                    ) from error
                if kind == "path":
                    raise PathTooLong(
                        f"InvokeRestApi refused the path {path!r}: {_message(error)}"
                    ) from error
                if kind == "rest":
                    raise _api_error(
                        error.response.get("RestApiStatusCode"),
                        error.response.get("RestApiResponse"),
                        method=method,
                        path=path,
                        where=target,
                    ) from error
                raise translate_botocore_error(error, service="mwaa", target=target) from error
            except BotoCoreError as error:
                raise translate_botocore_error(error, service="mwaa", target=target) from error
            status = int(response.get("RestApiStatusCode", 200))
            if status >= 400:
                raise _api_error(
                    status, response.get("RestApiResponse"), method=method, path=path, where=target
                )
            return response.get("RestApiResponse")
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _classify(error: ClientError) -> str:
    """What an InvokeRestApi failure means for the caller: retry, page smaller, or give up.

    MWAA documents the 6 MB limit but not the error it answers with; a ValidationException or
    a REST answer of 413 that mentions the size is taken as that limit."""
    code = error.response.get("Error", {}).get("Code")
    status = error.response.get("RestApiStatusCode")
    message = _message(error).lower()
    if code in {"ThrottlingException", "TooManyRequestsException"}:
        return "retry"
    if code in {"RestApiClientException", "RestApiServerException"}:
        if status in RETRIED_STATUS:
            return "retry"
        if status == 413:
            return "too-large"
        return "rest"
    if code == "ValidationException":
        if "size" in message or "too large" in message or "6 mb" in message:
            return "too-large"
        if "path" in message:
            return "path"
    return "aws"


class WebLoginTransport(UrlTransport):
    """The REST API through an MWAA web-login session (see the module docstring)."""

    name = "web-login"

    def __init__(
        self,
        clients: AwsClients,
        environment_name: str,
        *,
        backoff: Backoff | None = None,
        scheme: str = "https",
        timeout: float = 120.0,
    ) -> None:
        self.clients = clients
        self.environment_name = environment_name
        self.scheme = scheme
        self._host: str | None = None
        super().__init__(
            "",
            authenticate=self._login,
            backoff=backoff,
            timeout=timeout,
            limits=Limits(page_size=500, write_batch=500),
            label=f"environment {environment_name} (web-login session)",
        )

    def describe(self) -> dict[str, Any]:
        return {"transport": self.name, "environment": self.environment_name}

    def request(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        if self._host is None:
            self._token = self._login()
        return super().request(method, path, query=query, body=body)

    def _login(self) -> str:
        """Exchange a one-time web login token (valid 60 s) for the session's JWT."""
        target = f"environment {self.environment_name}"
        try:
            token = self.clients.client("mwaa").create_web_login_token(Name=self.environment_name)
        except (BotoCoreError, ClientError) as error:
            raise translate_botocore_error(error, service="mwaa", target=target) from error
        self._host = str(token["WebServerHostname"])
        self.base_url = f"{self.scheme}://{self._host}"
        answer = _http_json(
            "POST",
            self.base_url + WEB_LOGIN_PATH,
            body=None,
            headers={},
            timeout=30.0,
            form={"token": str(token["WebToken"])},
            follow_redirects=False,
        )
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == JWT_COOKIE:
                return rest.split(";", 1)[0]
        raise AwsError(
            f"web login to {target} at {self.base_url}{WEB_LOGIN_PATH} answered HTTP {answer.status} "
            f"without a {JWT_COOKIE} cookie: {detail_of(answer.body)}",
            code="WebLoginFailed",
        )
