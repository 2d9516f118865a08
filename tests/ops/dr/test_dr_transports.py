"""The three transports: MWAA's InvokeRestApi limits, backoff and paging, the web-login exchange.

InvokeRestApi is tested two ways: against a Stubber'd botocore client (exact requests and
MWAA-shaped errors), and against the MWAA stand-in, which enforces the limits on a real HTTP
API, so that pacing, backoff and page halving are shown to keep a backup inside them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from dr_fakeapi import FakeApi, Request
from dr_standin import MwaaStandIn, WebServerStandIn

from mwaa_ops.airflow_api import Backoff, PathTooLong
from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr.client import AirflowClient
from mwaa_ops.dr.transport import (
    ApiError,
    ResponseTooLarge,
    RestApiTransport,
    UrlTransport,
    WebLoginTransport,
)
from mwaa_ops.errors import AwsError

ENV = "dr-standin"


class Clock:
    """Time that moves only when the code under test sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def mwaa() -> Iterator[tuple[Any, Stubber]]:
    client = botocore.session.Session().create_client(
        "mwaa", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def clients(client: Any) -> AwsClients:
    return AwsClients(AwsSettings(region="us-east-1"), factory=lambda service: client)


def backoff(clock: Clock, attempts: int = 6) -> Backoff:
    return Backoff(attempts=attempts, sleep=clock.sleep, uniform=lambda low, high: high)


def expect(stub: Stubber, path: str, response: Any, *, method: str = "GET", body: Any = None) -> None:
    params: dict[str, Any] = {"Name": ENV, "Path": path, "Method": method}
    if body is not None:
        params["Body"] = body
    stub.add_response("invoke_rest_api", {"RestApiStatusCode": 200, "RestApiResponse": response}, params)


# ------------------------------------------------------------------- InvokeRestApi, stubbed


def test_a_path_over_64_characters_is_refused_before_any_call(mwaa: tuple[Any, Stubber]) -> None:
    client, _ = mwaa
    transport = RestApiTransport(clients(client), ENV, rate=None)
    with pytest.raises(PathTooLong, match="65 characters"):
        transport.request("GET", "/dags/" + "d" * 59)
    assert transport.calls == 0


def test_throttled_calls_are_retried_with_backoff(mwaa: tuple[Any, Stubber]) -> None:
    client, stub = mwaa
    clock = Clock()
    stub.add_client_error("invoke_rest_api", service_error_code="ThrottlingException", http_status_code=429)
    stub.add_client_error(
        "invoke_rest_api",
        service_error_code="RestApiClientException",
        http_status_code=400,
        modeled_fields={"RestApiStatusCode": 429, "RestApiResponse": {"detail": "slow down"}},
    )
    expect(stub, "/pools", {"pools": [], "total_entries": 0})
    transport = RestApiTransport(clients(client), ENV, backoff=backoff(clock), rate=None, clock=clock)
    assert transport.request("GET", "/pools") == {"pools": [], "total_entries": 0}
    assert clock.sleeps == [0.5, 1.0] and transport.throttled == 2


def test_still_throttled_after_every_attempt_is_one_aws_error(mwaa: tuple[Any, Stubber]) -> None:
    client, stub = mwaa
    clock = Clock()
    for _ in range(3):
        stub.add_client_error(
            "invoke_rest_api", service_error_code="ThrottlingException", http_status_code=429
        )
    transport = RestApiTransport(clients(client), ENV, backoff=backoff(clock, attempts=3), rate=None)
    with pytest.raises(AwsError, match="still throttled after 3 attempts") as raised:
        transport.request("GET", "/pools")
    assert raised.value.code == "Throttled"


def test_airflow_errors_keep_their_status_and_detail(mwaa: tuple[Any, Stubber]) -> None:
    client, stub = mwaa
    stub.add_client_error(
        "invoke_rest_api",
        service_error_code="RestApiClientException",
        http_status_code=400,
        modeled_fields={"RestApiStatusCode": 409, "RestApiResponse": {"detail": "run already exists"}},
    )
    transport = RestApiTransport(clients(client), ENV, rate=None)
    with pytest.raises(ApiError) as raised:
        transport.request("POST", "/dags/d/dagRuns", body={"logical_date": None})
    assert (raised.value.status, raised.value.detail) == (409, "run already exists")


def test_pages_are_halved_when_an_answer_is_too_large(mwaa: tuple[Any, Stubber]) -> None:
    client, stub = mwaa
    stub.add_client_error(
        "invoke_rest_api",
        service_error_code="ValidationException",
        service_message="Response size exceeds the maximum allowed size of 6 MB",
        http_status_code=400,
        expected_params={
            "Name": ENV,
            "Path": "/dags/~/dagRuns/list",
            "Method": "POST",
            "Body": {"order_by": "id", "page_offset": 0, "page_limit": 500},
        },
    )
    runs = [{"dag_run_id": f"r{i}"} for i in range(300)]
    expect(
        stub,
        "/dags/~/dagRuns/list",
        {"dag_runs": runs[:250], "total_entries": 300},
        method="POST",
        body={"order_by": "id", "page_offset": 0, "page_limit": 250},
    )
    expect(
        stub,
        "/dags/~/dagRuns/list",
        {"dag_runs": runs[250:], "total_entries": 300},
        method="POST",
        body={"order_by": "id", "page_offset": 250, "page_limit": 250},
    )
    lines: list[str] = []
    api = AirflowClient(RestApiTransport(clients(client), ENV, rate=None), progress=lines.append)
    assert api.paged_batch("/dags/~/dagRuns/list", "dag_runs", {"order_by": "id"}, what="runs") == runs
    assert "runs: answer too large, asking for pages of 250" in lines


def test_requests_are_paced_under_mwaa_rate(mwaa: tuple[Any, Stubber]) -> None:
    client, stub = mwaa
    clock = Clock()
    for _ in range(3):
        expect(stub, "/version", {"version": "3.3.1"})
    transport = RestApiTransport(clients(client), ENV, clock=clock, sleep=clock.sleep, rate=9.0)
    for _ in range(3):
        transport.request("GET", "/version")
    assert clock.sleeps == pytest.approx([1 / 9, 1 / 9])


# ------------------------------------------------------------------- the MWAA stand-in


@pytest.fixture
def api() -> Iterator[FakeApi]:
    def handler(request: Request) -> tuple[int, Any]:
        if request.path == "/api/v2/missing":
            return 404, {"detail": "not found"}
        if request.path == "/api/v2/huge":
            return 200, {"blob": "x" * (7 * 1024 * 1024)}
        if request.path == "/api/v2/dags/~/dagRuns/list":
            body = request.body or {}
            offset, limit = int(body["page_offset"]), int(body["page_limit"])
            page = [
                {"dag_run_id": f"r{i}", "conf": {"pad": "p" * 100_000}}
                for i in range(offset, min(120, offset + limit))
            ]
            return 200, {"dag_runs": page, "total_entries": 120}
        return 200, {"path": request.path}

    fake = FakeApi(handler)
    yield fake
    fake.close()


def test_standin_enforces_path_rate_and_size_and_maps_errors(api: FakeApi) -> None:
    clock = Clock()
    stand_in = MwaaStandIn(airflow_url=api.url, token=lambda: "t", environment_name=ENV, clock=clock)
    with pytest.raises(ClientError, match=r"ValidationException.*length less than or equal to 64"):
        stand_in.invoke_rest_api(Name=ENV, Path="/" + "p" * 64, Method="GET")
    for _ in range(10):
        stand_in.invoke_rest_api(Name=ENV, Path="/version", Method="GET")
    with pytest.raises(ClientError, match="ThrottlingException"):
        stand_in.invoke_rest_api(Name=ENV, Path="/version", Method="GET")
    clock.now += 1.01
    assert stand_in.invoke_rest_api(Name=ENV, Path="/version", Method="GET")["RestApiResponse"] == {
        "path": "/api/v2/version"
    }
    with pytest.raises(ClientError, match="exceeds the maximum allowed size of 6 MB"):
        stand_in.invoke_rest_api(Name=ENV, Path="/huge", Method="GET")
    with pytest.raises(ClientError, match="RestApiClientException") as raised:
        stand_in.invoke_rest_api(Name=ENV, Path="/missing", Method="GET")
    assert raised.value.response["RestApiStatusCode"] == 404  # type: ignore[typeddict-item]
    assert stand_in.refused == {"path": 1, "size": 1, "rate": 1}


def test_pacing_keeps_a_busy_client_under_the_standins_rate(api: FakeApi) -> None:
    clock = Clock()
    stand_in = MwaaStandIn(airflow_url=api.url, token=lambda: "t", environment_name=ENV, clock=clock)
    transport = RestApiTransport(clients(stand_in), ENV, clock=clock, sleep=clock.sleep)
    for _ in range(25):
        transport.request("GET", "/version")
    assert stand_in.refused["rate"] == 0 and len(stand_in.calls) == 25
    assert clock.now - 1000.0 >= 24 / 9 - 1e-6


def test_backoff_recovers_from_the_standins_throttling(api: FakeApi) -> None:
    clock = Clock()
    stand_in = MwaaStandIn(airflow_url=api.url, token=lambda: "t", environment_name=ENV, clock=clock)
    transport = RestApiTransport(clients(stand_in), ENV, backoff=backoff(clock), clock=clock, rate=None)
    for _ in range(25):
        transport.request("GET", "/version")
        clock.now += 0.01  # an unpaced client: 100 requests a second
    assert len(stand_in.calls) == 25
    assert stand_in.refused["rate"] > 0 and transport.throttled == stand_in.refused["rate"]


def test_paging_fits_the_standins_6_mb_limit(api: FakeApi) -> None:
    clock = Clock()
    stand_in = MwaaStandIn(airflow_url=api.url, token=lambda: "t", environment_name=ENV, clock=clock)
    transport = RestApiTransport(clients(stand_in), ENV, clock=clock, sleep=clock.sleep)
    runs = AirflowClient(transport).paged_batch("/dags/~/dagRuns/list", "dag_runs", {}, what="runs")
    assert [r["dag_run_id"] for r in runs] == [f"r{i}" for i in range(120)]
    assert stand_in.refused["size"] >= 1
    assert stand_in.max_bytes_returned <= 6 * 1024 * 1024


def test_a_single_item_over_6_mb_is_reported(api: FakeApi) -> None:
    stand_in = MwaaStandIn(airflow_url=api.url, token=lambda: "t", environment_name=ENV)
    transport = RestApiTransport(clients(stand_in), ENV, rate=None)
    with pytest.raises(ResponseTooLarge, match="6 MB"):
        transport.request("GET", "/huge")


# ------------------------------------------------------------------- web login and URL


@pytest.fixture
def session_api() -> Iterator[FakeApi]:
    def handler(request: Request) -> tuple[int, Any]:
        if request.headers.get("Authorization") != "Bearer jwt-2":
            return 401, {"detail": "Invalid JWT token"}
        return 200, {"version": "3.3.1"}

    fake = FakeApi(handler)
    yield fake
    fake.close()


def test_web_login_exchanges_the_token_and_renews_an_expired_session(
    mwaa: tuple[Any, Stubber], session_api: FakeApi
) -> None:
    client, stub = mwaa
    issued = iter(["jwt-1", "jwt-2"])
    web = WebServerStandIn(airflow_url=session_api.url, token=lambda: next(issued), web_token="wt")
    try:
        for _ in range(2):
            stub.add_response(
                "create_web_login_token", {"WebServerHostname": web.hostname, "WebToken": "wt"}, {"Name": ENV}
            )
        transport = WebLoginTransport(clients(client), ENV, scheme="http")
        assert transport.request("GET", "/version") == {"version": "3.3.1"}
    finally:
        web.close()
    assert web.logins == 2
    bearer = [r.headers.get("Authorization") for r in session_api.requests]
    assert bearer == ["Bearer jwt-1", "Bearer jwt-2"]
    assert [r.path for r in session_api.requests] == ["/api/v2/version"] * 2


def test_web_login_with_a_refused_token_is_one_aws_error(
    mwaa: tuple[Any, Stubber], session_api: FakeApi
) -> None:
    client, stub = mwaa
    web = WebServerStandIn(airflow_url=session_api.url, token=lambda: "jwt-2", web_token="wt")
    try:
        stub.add_response(
            "create_web_login_token",
            {"WebServerHostname": web.hostname, "WebToken": "expired"},
            {"Name": ENV},
        )
        with pytest.raises(AwsError, match="HTTP 403 without a _token cookie") as raised:
            WebLoginTransport(clients(client), ENV, scheme="http").request("GET", "/version")
    finally:
        web.close()
    assert raised.value.code == "WebLoginFailed"
    assert session_api.requests == []


def test_url_transport_logs_in_and_retries_a_busy_airflow() -> None:
    answers = iter([(503, {"detail": "Database is locked"}), (200, {"pools": [], "total_entries": 0})])

    def handler(request: Request) -> tuple[int, Any]:
        if request.path == "/auth/token":
            assert request.body == {"username": "admin", "password": "secret"}
            return 201, {"access_token": "a1"}
        assert request.headers.get("Authorization") == "Bearer a1"
        return next(answers)

    fake = FakeApi(handler)
    clock = Clock()
    try:
        transport = UrlTransport.with_password(fake.url, "admin", "secret", backoff=backoff(clock))
        assert transport.request("GET", "/pools") == {"pools": [], "total_entries": 0}
    finally:
        fake.close()
    assert [r.path for r in fake.requests] == ["/auth/token", "/api/v2/pools", "/api/v2/pools"]
    assert clock.sleeps == [0.5]
