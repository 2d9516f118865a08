"""``make new-team NAME=<name> [REGION=<region>] [OWNERS="@org/team ..."]``: add a team to the
platform by data alone.

    python -m tools.new_team NAME [--region REGION] [--owners "@org/team ..."]

Writes, and refuses to overwrite anything:
- the profile NAME in cdk.json (inserted after the last profile, the rest of the file left as
  it is), with safe defaults: its own environment name ``mwaa-NAME``; a private web server; a
  customer managed key; resources retained and termination protection on; the recommended
  alarms; no plugins or startup script; and a VPC range of its own: the first /16 of 10.192.0.0
  to 10.255.0.0, then 10.0.0.0 to 10.191.0.0, that overlaps no range of another profile of the
  same account (the collision rules of platform_config.load_profiles);
- ``teams/NAME/dags/NAME_example.py`` (an example DAG that reads S3), ``teams/NAME/requirements.txt``
  (the constraint line of the profile's Airflow version and Python) and
  ``teams/NAME/dag_test.json`` (what ``make dag-test`` and the tests use instead of the
  environment's secrets and buckets);
- ``tests/teams/NAME/``: the example DAG's test, with the fixtures of tools.dag_testing;
- with ``--owners``: lines in .github/CODEOWNERS for the team's folders;
- the deploy workflow again (tools.workflows), with a job for the profile in the GitHub
  environment NAME, and the generated IAM policies of policies/ (tools.permissions.policies:
  an operator policy for the profile, the CloudFormation execution policy with its resources).

The profile is validated with every other profile of cdk.json before anything is written.
Exit codes: 0 written, 2 a usage error or a name, region or owner that cannot be used.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # in CPython, not in typeshed
from pathlib import Path
from typing import Any

from platform_config import NetworkSettings, Profile, ProfileError, load_profiles, read_cdk_profiles
from tools import workflows
from tools.dag_folders import ROOT, SETTINGS_FILE

# A team's name names its profile, GitHub environment, deploy job, folders and DAG module.
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_NAME_MAX = 40
# A GitHub user or team (@org/team), or an e-mail address (CODEOWNERS syntax).
_OWNER = re.compile(r"^(@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")
# Where VPC ranges are taken from, in this order: the /16s after the shipped profiles' 10.192 and
# 10.193, then the rest of 10.0.0.0/8.
_VPC_RANGES = [f"10.{second}.0.0/16" for second in [*range(192, 256), *range(0, 192)]]
DEFAULT_REGION = "us-east-1"


class TeamError(ValueError):
    """A team that cannot be added as asked; the message says what to change."""


@dataclass(frozen=True)
class Scaffold:
    """Everything ``make new-team`` writes: repository path -> new content."""

    name: str
    files: dict[str, str]

    def write(self, root: Path) -> None:
        for relative, text in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def plan(root: Path, name: str, *, region: str | None = None, owners: tuple[str, ...] = ()) -> Scaffold:
    """What adding the team ``name`` writes under ``root``, validated, without writing it."""
    if len(name) > _NAME_MAX or not _NAME.match(name):
        raise TeamError(
            f"NAME: got {name!r}; expected up to {_NAME_MAX} lower-case letters, digits and '-', starting "
            "with a letter (it names the profile, its GitHub environment, folders and DAG), e.g. 'analytics'"
        )
    bad_owners = [owner for owner in owners if not _OWNER.match(owner)]
    if bad_owners:
        raise TeamError(
            f"OWNERS: got {bad_owners[0]!r}; expected GitHub owners such as '@example-org/analytics' or "
            "'@octocat', or e-mail addresses, separated by spaces or commas"
        )
    cdk_json = root / "cdk.json"
    text = cdk_json.read_text(encoding="utf-8")
    profiles = read_cdk_profiles(cdk_json)
    if name in profiles:
        raise TeamError(f"NAME: cdk.json already has a profile '{name}'; choose another name")
    folder = f"teams/{name}"
    for taken in (folder, f"tests/{folder}"):
        if (root / taken).exists():
            raise TeamError(f"NAME: {taken}/ exists already; choose another name or remove it")
    profile = team_profile(name, profiles, region=region)
    new_profiles = {**profiles, name: profile}
    try:
        # Every profile of cdk.json, the new one included: settings, names and VPC ranges.
        loaded = load_profiles(new_profiles, name)
    except ProfileError as error:
        raise TeamError(str(error)) from None
    (team,) = loaded
    slug = name.replace("-", "_")
    files = {
        "cdk.json": insert_profile(text, name, profile),
        f"{folder}/dags/{slug}_example.py": _example_dag(name, slug),
        f"{folder}/requirements.txt": _requirements(name, team),
        f"{folder}/{SETTINGS_FILE}": _settings(name, slug, team.region or DEFAULT_REGION),
        f"tests/{folder}/conftest.py": _conftest(name),
        f"tests/{folder}/test_{slug}_example.py": _test(name, slug),
    }
    if owners:
        files[".github/CODEOWNERS"] = _codeowners(root, folder, owners)
    return Scaffold(name=name, files=files)


def team_profile(name: str, profiles: Mapping[str, Any], *, region: str | None) -> dict[str, Any]:
    """The settings of a new team's profile (see the module's docstring for the defaults)."""
    defaults = {f.name: f.default for f in dataclasses.fields(Profile)}
    profile: dict[str, Any] = {"environment_name": f"mwaa-{name}"}
    if region is not None:
        profile["region"] = region
    projects = {raw.get("tags", {}).get("project") for raw in profiles.values() if isinstance(raw, Mapping)}
    tags = {"project": projects.pop()} if len(projects) == 1 and None not in projects else {}
    profile |= {
        "airflow_version": defaults["airflow_version"],
        "environment_class": defaults["environment_class"],
        # Small to start with: a team raises it when its DAGs need more.
        "min_workers": 1,
        "max_workers": 2,
        "webserver_access_mode": "PRIVATE_ONLY",
        "network": {"mode": "nat", "nat_gateways": 1, "vpc_cidr": free_vpc_range(profiles, account=None)},
        "encryption": "customer_managed",
        "log_retention_days": defaults["log_retention_days"],
        "removal_policy": "retain",
        "termination_protection": True,
        "artifacts": {
            "dags": f"teams/{name}/dags",
            "requirements": f"teams/{name}/requirements.txt",
            "plugins": None,
            "startup_script": None,
        },
        "alarms": {"enabled": True, "email": []},
        "access": {"web_login": [], "rest_api": [], "cli": []},
        "tags": tags | {"profile": name, "team": name},
    }
    return profile


def free_vpc_range(profiles: Mapping[str, Any], *, account: str | None) -> str:
    """The first /16 of :data:`_VPC_RANGES` that overlaps the VPC range of no profile of
    ``account`` that creates its VPC (an unset account is the deploying one, as in
    ``load_profiles``)."""
    default = NetworkSettings().vpc_cidr
    taken = []
    for raw in profiles.values():
        if not isinstance(raw, Mapping) or raw.get("account") != account:
            continue
        network = raw.get("network", {}) if isinstance(raw.get("network", {}), Mapping) else {}
        if network.get("mode", "nat") == "existing":
            continue
        try:
            taken.append(ipaddress.IPv4Network(network.get("vpc_cidr", default), strict=False))
        except (TypeError, ValueError):
            continue  # the profile's own check reports it
    for candidate in _VPC_RANGES:
        network = ipaddress.IPv4Network(candidate)
        if not any(network.overlaps(other) for other in taken):
            return candidate
    raise TeamError("no free /16 left in 10.0.0.0/8 for this account: set network.vpc_cidr by hand")


# -- cdk.json: the new profile inserted as text, so that the rest of the file stays as written ---


def insert_profile(text: str, name: str, profile: Mapping[str, Any]) -> str:
    """``text`` (cdk.json) with ``name: profile`` added as the last member of
    ``context.profiles``, formatted like the shipped profiles (one setting a line, nested
    objects on one line)."""
    start, end = _value_span(text, ("context", "profiles"))
    closing = end - 1  # the '}' of the profiles object
    before = text[start + 1 : closing].rstrip()
    first_member = re.search(r'\n([ \t]*)"', text[start:closing])
    indent = first_member.group(1) if first_member else " " * 6
    member = f'{indent}"{name}": {_render_object(profile, indent)}'
    insert_at = start + 1 + len(before)
    separator = ",\n" if before.strip() else "\n"
    closing_indent = indent[:-2] if len(indent) >= 2 else ""
    new_text = text[:insert_at] + separator + member + "\n" + closing_indent + text[closing:]
    if json.loads(new_text)["context"]["profiles"][name] != profile:
        raise AssertionError("the profile inserted into cdk.json does not read back as written")
    return new_text


def _render_object(value: Mapping[str, Any], indent: str) -> str:
    inner = indent + "  "
    lines = [f"{inner}{json.dumps(key)}: {_render_inline(item)}" for key, item in value.items()]
    return "{\n" + ",\n".join(lines) + "\n" + indent + "}"


def _render_inline(value: Any) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(k)}: {_render_inline(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _value_span(text: str, path: tuple[str, ...]) -> tuple[int, int]:
    """[start, end) of the JSON value at ``path`` (object keys) in ``text``."""
    decoder = json.JSONDecoder()

    def skip(position: int) -> int:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        return position

    position = skip(0)
    for key in path:
        if text[position] != "{":
            raise TeamError(f"cdk.json: expected an object above '{key}'")
        position = skip(position + 1)
        while True:
            if text[position] == "}":
                raise TeamError(f"cdk.json: no '{key}' object")
            member, position = scanstring(text, position + 1)
            position = skip(position)
            position = skip(position + 1)  # the ':'
            if member == key:
                break
            _, position = decoder.raw_decode(text, position)
            position = skip(position)
            if text[position] == ",":
                position = skip(position + 1)
    _, end = decoder.raw_decode(text, position)
    return position, end


# -- The team's files ------------------------------------------------------------------------------


def _example_dag(name: str, slug: str) -> str:
    return f'''"""Example DAG of the {name} team: waits for a CSV object in S3, then counts its rows.

Replace it with the team's own DAGs (tests/teams/{name}/ holds its test). The object is named by
the Airflow variables ``{slug}_example_bucket`` and ``{slug}_example_key``: on MWAA they come
from the secrets backend (secrets ``airflow/variables/{slug}_example_bucket`` and
``airflow/variables/{slug}_example_key``), and the execution role must be allowed to read the
bucket; in ``make dag-test`` and the tests they come from teams/{name}/{SETTINGS_FILE}. The DAG
runs only when triggered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import dag, task

BUCKET = "{{{{ var.value.{slug}_example_bucket }}}}"
KEY = "{{{{ var.value.{slug}_example_key }}}}"


@dag(
    dag_id="{slug}_example",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["{name}"],
    default_args={{"owner": "{name}", "retries": 2, "retry_delay": timedelta(minutes=2)}},
)
def {slug}_example() -> None:
    wait_for_input = S3KeySensor(
        task_id="wait_for_input",
        bucket_name=BUCKET,
        bucket_key=KEY,
        aws_conn_id="aws_default",
        poke_interval=60,
        timeout=60 * 60,
    )

    @task
    def count_rows(bucket: str, key: str) -> int:
        """Rows of the CSV object below its header line."""
        text = S3Hook(aws_conn_id="aws_default").read_key(key=key, bucket_name=bucket)
        rows = [line for line in text.splitlines()[1:] if line.strip()]
        if not rows:
            raise ValueError(f"s3://{{bucket}}/{{key}} holds no rows below its header")
        return len(rows)

    wait_for_input >> count_rows(BUCKET, KEY)


{slug}_example()
'''


def _requirements(name: str, profile: Profile) -> str:
    version, python = profile.airflow_version, profile.python_version
    return (
        f"# Python packages of the {name} team's environment, installed on top of the MWAA image.\n"
        "# Checked at synth against the constraints of the profile's MWAA image: keep the constraint\n"
        "# line of the profile's Airflow version and Python; a package the constraints pin may be\n"
        "# listed without a version, any other package is pinned with ==.\n"
        f'--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-{version}/'
        f'constraints-{python}.txt"\n'
    )


def _settings(name: str, slug: str, region: str) -> str:
    settings = {
        "connections": {"aws_default": {"conn_type": "aws", "extra": {"region_name": region}}},
        "variables": {
            f"{slug}_example_bucket": f"{name}-example-input",
            f"{slug}_example_key": "incoming/example.csv",
        },
        "s3": {f"{name}-example-input": {"incoming/example.csv": "id,value\n1,10\n2,20\n"}},
    }
    return json.dumps(settings, indent=2) + "\n"


def _conftest(name: str) -> str:
    return f'''"""Fixtures of the {name} team's DAG tests (tools.dag_testing): Airflow in a throw-away home,
teams/{name}/{SETTINGS_FILE} as connections, variables and S3 objects, moto for AWS, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.dag_testing import configure_airflow

DAGS = Path(__file__).resolve().parents[3] / "teams" / "{name}" / "dags"
configure_airflow(DAGS)  # before anything imports Airflow

from tools.dag_testing import dag_bag, dag_test_settings, isolated_aws, s3  # noqa: E402, F401


@pytest.fixture(scope="session")
def dag_folder() -> Path:
    return DAGS
'''


def _test(name: str, slug: str) -> str:
    return f'''"""The {name} team's example DAG: it imports as MWAA would parse it, and its task reads S3
(moto, with the objects of teams/{name}/{SETTINGS_FILE})."""

from __future__ import annotations

from typing import Any

import pytest

DAG_ID = "{slug}_example"


@pytest.fixture
def dag(dag_bag: Any) -> Any:
    return dag_bag.dags[DAG_ID]


def test_the_dag_folder_imports_without_errors(dag_bag: Any) -> None:
    assert dag_bag.import_errors == {{}}
    assert DAG_ID in dag_bag.dags


def test_rows_are_counted_once_the_input_exists(dag: Any) -> None:
    assert dag.get_task("count_rows").upstream_task_ids == {{"wait_for_input"}}


def test_count_rows_reads_the_object_from_s3(dag: Any, s3: Any, dag_test_settings: Any) -> None:
    variables = dag_test_settings.variables
    bucket, key = variables["{slug}_example_bucket"], variables["{slug}_example_key"]
    assert dag.get_task("count_rows").python_callable(bucket, key) == 2


def test_count_rows_fails_on_an_object_without_rows(dag: Any, s3: Any, dag_test_settings: Any) -> None:
    bucket = dag_test_settings.variables["{slug}_example_bucket"]
    s3.put_object(Bucket=bucket, Key="incoming/empty.csv", Body=b"id,value\\n")
    with pytest.raises(ValueError, match="holds no rows"):
        dag.get_task("count_rows").python_callable(bucket, "incoming/empty.csv")
'''


def _codeowners(root: Path, folder: str, owners: tuple[str, ...]) -> str:
    path = root / ".github" / "CODEOWNERS"
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else (
            "# Who reviews changes to which files (GitHub CODEOWNERS; `make new-team OWNERS=...` adds a\n"
            "# team's lines). The last matching pattern wins.\n"
        )
    )
    if text and not text.endswith("\n"):
        text += "\n"
    who = " ".join(owners)
    return text + f"/{folder}/ {who}\n/tests/{folder}/ {who}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.new_team",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name")
    parser.add_argument("--region", help="AWS region of the profile (default: the deploying credentials')")
    parser.add_argument("--owners", default="", help="CODEOWNERS of the team's folders, e.g. @org/analytics")
    args = parser.parse_args(argv)
    owners = tuple(owner for owner in re.split(r"[\s,]+", args.owners) if owner)
    try:
        scaffold = plan(ROOT, args.name, region=args.region, owners=owners)
    except (TeamError, ProfileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    scaffold.write(ROOT)
    status = workflows.main([])
    # The generated policies name every profile's resources: regenerated from the new cdk.json
    # (it synthesizes every stack, in a process of its own).
    status = (
        status or subprocess.run([sys.executable, "-m", "tools.permissions.policies"], cwd=ROOT).returncode
    )
    for path in scaffold.files:
        print(f"  {'updated' if path in ('cdk.json', '.github/CODEOWNERS') else 'created'} {path}")
    print("  updated .github/workflows/deploy.yml and policies/")
    name = scaffold.name
    slug = name.replace("-", "_")
    print(
        f"\nteam {name} added. Next:\n"
        f"  make synth PROFILE={name}             # synthesize its stacks\n"
        f"  make dag-test DAG={slug}_example      # run the example DAG offline\n"
        f"  python -m pytest tests/teams/{name}   # its DAG tests\n"
        f"In GitHub: an environment '{name}' with the variables AWS_DEPLOY_ROLE_ARN and AWS_REGION, and\n"
        f"'{name}' in the deploy access stack's github_environments (docs/teams.md)."
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
