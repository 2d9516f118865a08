"""The Apache Airflow versions Amazon MWAA runs, and the rules that depend on the version.

Sources, in the order they were trusted:

- the MWAA user guide ("Apache Airflow versions on Amazon MWAA", its version support FAQ and
  "Changing the Apache Airflow version"): the supported versions, their Python, the dates a
  version was added or retired, and the upgrade paths;
- the MWAA container images (github.com/aws/amazon-mwaa-docker-images): the constraints each
  image resolves requirements against, shipped under ``mwaa_rules/data/constraints/``;
- the CloudFormation resource AWS::MWAA::Environment: its ``AirflowVersion`` is a free string
  (pattern ``^[0-9a-z.]+$``) that MWAA itself validates. CloudFormation's *documentation* lists
  versions up to 3.2.1 and lags the service (cloudformation-coverage-roadmap#2517): a version
  missing there, such as 3.3.1, still deploys.

MWAA announces the end of a version 180 days ahead and supports each version for at least 12
months: review :data:`SUPPORTED_VERSIONS` and :data:`RETIRED_VERSIONS` when AWS announces one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CONSTRAINTS_URL = (
    "https://raw.githubusercontent.com/apache/airflow/constraints-{version}/constraints-{python}.txt"
)


@dataclass(frozen=True)
class AirflowVersion:
    """One Airflow version MWAA offers today."""

    version: str
    #: Python of MWAA's image for this version: it names the Airflow constraints file.
    python: str
    #: The day MWAA added the version (UTC), where the source gives it.
    supported_since: str | None = None
    #: Whether this package ships the image's constraints for the version
    #: (``data/constraints/<version>/``), so that unpinned requirements can be resolved.
    image_data: bool = False

    @property
    def constraints_url(self) -> str:
        """The ``--constraint`` URL MWAA expects in the requirements file of this version."""
        return CONSTRAINTS_URL.format(version=self.version, python=self.python)

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


@dataclass(frozen=True)
class RetiredVersion:
    """A version MWAA no longer creates environments with."""

    version: str
    #: When support ended: a day (``2025-12-30``) or, where only that is known, a year.
    ended: str

    def message(self) -> str:
        when = f"on {self.ended}" if len(self.ended) > 4 else f"in {self.ended}"
        return f"MWAA ended support for {self.version} {when}"


SUPPORTED_VERSIONS: tuple[AirflowVersion, ...] = (
    AirflowVersion("2.7.2", "3.11"),
    AirflowVersion("2.8.1", "3.11"),
    AirflowVersion("2.9.2", "3.11"),
    AirflowVersion("2.10.1", "3.11"),
    AirflowVersion("2.10.3", "3.11"),
    AirflowVersion("2.11.0", "3.12"),
    AirflowVersion("2.11.2", "3.12", supported_since="2026-07-23", image_data=True),
    AirflowVersion("3.0.6", "3.12", image_data=True),
    AirflowVersion("3.2.1", "3.12", supported_since="2026-05-19", image_data=True),
    AirflowVersion("3.3.1", "3.12", supported_since="2026-09-01", image_data=True),
)
DEFAULT_AIRFLOW_VERSION = "3.3.1"

RETIRED_VERSIONS: tuple[RetiredVersion, ...] = (
    RetiredVersion("1.10.12", "2024"),
    RetiredVersion("2.0.2", "2024"),
    RetiredVersion("2.2.2", "2024"),
    RetiredVersion("2.4.3", "2025-12-30"),
    RetiredVersion("2.5.1", "2025-12-30"),
    RetiredVersion("2.6.3", "2025-12-30"),
)

# Airflow minor releases MWAA skipped: no version of them was ever offered.
NEVER_OFFERED_SERIES: tuple[str, ...] = ("3.1",)

# WebserverAccessMode PUBLIC_AND_PRIVATE: a public load balancer for the UI plus a private
# endpoint that workers use for Airflow 3's Task API. MWAA offers that endpoint from 3.2.
PUBLIC_AND_PRIVATE_SINCE = "3.2.1"

_BY_VERSION = {v.version: v for v in SUPPORTED_VERSIONS}
_RETIRED = {v.version: v for v in RETIRED_VERSIONS}


def supported_version_names() -> list[str]:
    return [v.version for v in SUPPORTED_VERSIONS]


def get(version: str) -> AirflowVersion:
    """The supported version ``version``; :class:`KeyError` for any other."""
    return _BY_VERSION[version]


def is_supported(version: str) -> bool:
    return version in _BY_VERSION


def is_known(version: str) -> bool:
    """Supported now or once: a version an existing environment may still run."""
    return version in _BY_VERSION or version in _RETIRED


def version_problem(version: str) -> str | None:
    """Why ``version`` cannot be deployed (``None`` when it can), ending with the choices."""
    if version in _BY_VERSION:
        return None
    choices = f"supported versions are {', '.join(repr(v) for v in supported_version_names())}"
    if version in _RETIRED:
        return f"{_RETIRED[version].message()}; {choices}"
    series = ".".join(version.split(".")[:2])
    if series in NEVER_OFFERED_SERIES:
        return f"MWAA never offered Airflow {series}.x; {choices}"
    return choices


def sort_key(version: str) -> tuple[int, ...]:
    """``'2.10.3'`` -> ``(2, 10, 3)``; ValueError for anything else."""
    return tuple(int(part) for part in version.split("."))


def access_mode_problem(mode: str, version: str) -> str | None:
    """Why web server access ``mode`` cannot be used with Airflow ``version`` (None if it can)."""
    if mode != "PUBLIC_AND_PRIVATE" or not is_supported(version):
        return None
    if sort_key(version) >= sort_key(PUBLIC_AND_PRIVATE_SINCE):
        return None
    return (
        f"PUBLIC_AND_PRIVATE needs Airflow {PUBLIC_AND_PRIVATE_SINCE} or later: the private endpoint "
        "that carries worker-to-web-server Task API traffic exists on MWAA only from Airflow 3.2; "
        f"with Airflow {version} use 'PUBLIC_ONLY' or 'PRIVATE_ONLY'"
    )


UpgradeKind = Literal["in_place", "new_environment"]


@dataclass(frozen=True)
class UpgradePath:
    """How an environment on ``source`` gets to ``target``, and why."""

    source: str
    target: str
    kind: UpgradeKind
    reason: str


def upgrade_path(source: str, target: str) -> UpgradePath:
    """Whether MWAA can move an environment from Airflow ``source`` to ``target`` in place.

    MWAA's rules ("Changing the Apache Airflow version"): any minor or patch change within a major
    version, up or down, is an in-place update; 2.x to 3.x only from 2.11.x (older 2.x
    environments first move to 2.11.x in place, or go to a new environment); 3.x back to 2.11.x is
    the one downgrade across majors. Anything else needs a new environment (with another name:
    MWAA keeps both until the old one is deleted).

    ``source`` may be a retired version (an environment can still run one); ``target`` must be a
    supported one. Raises ValueError for versions this module does not know.
    """
    if not is_known(source):
        raise ValueError(f"upgrade_path: unknown source version {source!r}")
    if not is_supported(target):
        raise ValueError(f"upgrade_path: {target!r} is not a supported target version")
    src, dst = sort_key(source), sort_key(target)

    def path(kind: UpgradeKind, reason: str) -> UpgradePath:
        return UpgradePath(source, target, kind, reason)

    if src == dst:
        return path("in_place", f"the environment already runs {target}: no version change")
    if src[0] == dst[0]:
        direction = "upgrade" if dst > src else "downgrade"
        return path("in_place", f"{source} -> {target}: MWAA {direction}s within Airflow {src[0]} in place")
    if (src[0], dst[0]) == (2, 3):
        if src[:2] == (2, 11):
            return path("in_place", f"{source} -> {target}: MWAA upgrades 2.11.x to 3.x in place")
        latest_2 = max((v for v in supported_version_names() if v.startswith("2.11.")), key=sort_key)
        return path(
            "new_environment",
            f"MWAA upgrades to Airflow 3 in place only from 2.11.x: upgrade to {latest_2} first "
            f"(in place), then to {target}, or create a new environment with another name on {target}",
        )
    if (src[0], dst[0]) == (3, 2) and dst[:2] == (2, 11):
        return path("in_place", f"{source} -> {target}: MWAA downgrades 3.x to 2.11.x in place")
    if (src[0], dst[0]) == (3, 2):
        return path(
            "new_environment",
            f"the only downgrade from Airflow 3 that MWAA makes in place is to 2.11.x; "
            f"create a new environment with another name on {target}",
        )
    return path(
        "new_environment",
        f"MWAA cannot change Airflow {src[0]} to {dst[0]} in place; "
        f"create a new environment with another name on {target}",
    )
