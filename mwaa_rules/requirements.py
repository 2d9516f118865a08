"""The environment's requirements file, checked at synth against what MWAA will do with it.

MWAA runs ``pip install -r requirements.txt`` on every worker, scheduler and web server, under
the file's constraint line and the image's own fixed packages. A file pip cannot satisfy fails
only after a 10-30 minute environment update and its rollback. :func:`check_requirements`
reads the file as pip would and compares it with the constraints of the environment's MWAA
image, shipped as package data (``data/constraints/<version>/``, see
:mod:`mwaa_rules.versions`), so that the mistake stops ``cdk synth`` instead.

Two routes are accepted:

- **index** (network modes with internet): the public constraint line of the environment's
  Airflow version and Python, packages from PyPI or from a private index given with
  ``--index-url`` / ``--extra-index-url`` (e.g. CodeArtifact);
- **wheels** (any network mode; the only one without internet): ``--no-index``,
  ``--find-links /usr/local/airflow/plugins`` and ``--constraint
  /usr/local/airflow/plugins/<file>``, with the constraints file and a wheel of every listed
  package in plugins.zip (MWAA extracts plugins.zip into ``/usr/local/airflow/plugins``).

On either route: a requirement the image's constraints pin may be unpinned (pip installs the
pinned version) but must not contradict the pin; ``apache-airflow``, MWAA's essential packages
and Airflow providers cannot be overridden at all; any other package must be pinned with
``==``. For versions whose constraints are not shipped, every requirement must be pinned with
``==`` (and ``apache-airflow`` may only be the environment's version).

This module does not load aws-cdk-lib: a change-review tool can use it as it is.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mwaa_rules import versions

#: Where MWAA extracts plugins.zip on every Airflow container.
PLUGINS_PATH = "/usr/local/airflow/plugins"

Route = Literal["index", "wheels"]

_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTIONS_WITH_VALUE = {
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
}
_SUPPORTED_OPTIONS = (
    "--constraint, --index-url, --extra-index-url, and --no-index with --find-links "
    f"{PLUGINS_PATH} (the plugins.zip wheels route)"
)
_WHEELS_ROUTE = (
    f"'--no-index', '--find-links {PLUGINS_PATH}' and '--constraint {PLUGINS_PATH}/<constraints file>'"
)


class RequirementsError(ValueError):
    """A requirements file MWAA would fail to install, found at synth time."""


@dataclass(frozen=True)
class ResolvedRequirement:
    """One requirement and the version pip will install on MWAA."""

    #: Normalized package name (PEP 503), e.g. ``apache-airflow-providers-slack``.
    name: str
    #: The requirement as written in the file, e.g. ``apache-airflow-providers-slack`` or
    #: ``simplejson==3.20.1``.
    requested: str
    #: The version pip installs: the constraints' pin, or the requirement's own ``==`` pin.
    installs: str


@dataclass(frozen=True)
class CheckedRequirements:
    """What :func:`check_requirements` found."""

    route: Route
    requirements: tuple[ResolvedRequirement, ...]
    #: False when the file must not reach the environment: a network without internet and a
    #: file holding only the public constraint line (nothing to install, and pip could not
    #: download the constraints file). MWAA then applies the image's constraints itself.
    deploy: bool
    #: Whether the image's constraints of the version were available to check against.
    verified_against_image: bool


@dataclass(frozen=True)
class ImageConstraints:
    """The versions an MWAA image resolves requirements against."""

    #: normalized name -> version, from Airflow's constraints file as the image uses it,
    #: overridden by the image's essential constraints.
    pins: dict[str, str]
    #: Packages MWAA does not let a requirements file change: Airflow, its providers and the
    #: essential constraints.
    protected: frozenset[str]


@cache
def image_constraints(airflow_version: str) -> ImageConstraints | None:
    """The shipped constraints of the MWAA image of ``airflow_version`` (None when not shipped)."""
    if not versions.is_supported(airflow_version) or not versions.get(airflow_version).image_data:
        return None
    folder = resources.files("mwaa_rules") / "data" / "constraints" / airflow_version
    pins = _read_pins((folder / "airflow_constraints.txt").read_text(encoding="utf-8"))
    essential = _read_pins((folder / "mwaa_essential_constraints.txt").read_text(encoding="utf-8"))
    pins.update(essential)
    pins["apache-airflow"] = airflow_version
    providers = {name for name in pins if name.startswith("apache-airflow-providers-")}
    return ImageConstraints(pins=pins, protected=frozenset({"apache-airflow", *essential, *providers}))


def _read_pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = _COMMENT.sub("", line).strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, content) of each non-empty line, as pip reads them: comments removed,
    lines ending in a backslash joined with the next."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw).rstrip()
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        joined = " ".join([*pending, line]).strip()
        pending = []
        if joined:
            yield start, joined
    if pending and " ".join(pending).strip():
        yield start, " ".join(pending).strip()


def _exact_pin(specifier: SpecifierSet) -> str | None:
    specs = list(specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


@dataclass
class _Parsed:
    constraints: list[tuple[int, str]]
    indexes: list[tuple[int, str]]
    find_links: list[tuple[int, str]]
    no_index: int | None
    requirements: list[tuple[int, str, Requirement]]


def _parse(text: str, problems: list[str]) -> _Parsed:
    parsed = _Parsed([], [], [], None, [])
    for number, line in _logical_lines(text):
        if not line.startswith("-"):
            try:
                parsed.requirements.append((number, line, Requirement(line)))
            except InvalidRequirement:
                problems.append(f"line {number}: cannot read requirement '{line}'")
            continue
        try:
            tokens = shlex.split(line)
        except ValueError:
            tokens = line.split()
        head = tokens[0]
        if head.startswith("--"):
            option, _, value = head.partition("=")
        else:  # a short option may carry its value: -cFILE, -c=FILE
            option, value = head[:2], head[2:].removeprefix("=")
        if option == "--no-index" and len(tokens) == 1 and not value:
            parsed.no_index = number
            continue
        canonical = _OPTIONS_WITH_VALUE.get(option)
        rest = tokens[1:]
        if value:
            rest = [value, *rest]
        if canonical is None or len(rest) != 1:
            problems.append(
                f"line {number}: option '{line}' is not supported; supported: {_SUPPORTED_OPTIONS}"
            )
            continue
        target = {
            "--constraint": parsed.constraints,
            "--index-url": parsed.indexes,
            "--extra-index-url": parsed.indexes,
            "--find-links": parsed.find_links,
        }[canonical]
        target.append((number, rest[0]))
    return parsed


def check_requirements(
    path: Path,
    airflow_version: str,
    *,
    internet_access: bool = True,
    plugin_files: Sequence[str] = (),
) -> CheckedRequirements:
    """Check the requirements file ``path`` for an environment on ``airflow_version``.

    ``internet_access`` is False for a network without a route to the internet (the ``isolated``
    mode): only the wheels route works there. ``plugin_files`` are the paths inside plugins.zip
    (relative, ``/``-separated), where the wheels route finds its constraints file and wheels.

    Raises :class:`RequirementsError` naming the file and every problem, line by line."""
    version = versions.get(airflow_version)
    expected = version.constraints_url
    image = image_constraints(airflow_version)
    problems: list[str] = []
    parsed = _parse(path.read_text(encoding="utf-8"), problems)

    # --- route: the constraint line decides it ------------------------------------------------
    route: Route = "index"
    local_constraint: str | None = None
    for number, _ in parsed.constraints[1:]:
        first = parsed.constraints[0][0]
        problems.append(f"line {number}: a second constraint line (the first is on line {first}); keep one")
    if parsed.constraints:
        number, url = parsed.constraints[0]
        if url.startswith(f"{PLUGINS_PATH}/"):
            route, local_constraint = "wheels", url[len(PLUGINS_PATH) + 1 :]
            if local_constraint not in plugin_files:
                problems.append(f"line {number}: constraint {url}: plugins.zip has no '{local_constraint}'")
        elif url != expected:
            problems.append(
                f"line {number}: constraint {url} is not the one for Airflow {airflow_version} (expected "
                f"{expected}, or a constraints file in plugins.zip: {PLUGINS_PATH}/<file>)"
            )
    else:
        problems.append(f'missing the constraint line: --constraint "{expected}"')

    if route == "wheels":
        for number, url in parsed.indexes:
            problems.append(
                f"line {number}: '{url}': a package index contradicts the wheels route's --no-index"
            )
        if parsed.no_index is None:
            problems.append(
                "the wheels route (constraint in plugins.zip) needs '--no-index' and "
                f"'--find-links {PLUGINS_PATH}'"
            )
        elif not any(link.rstrip("/") == PLUGINS_PATH for _, link in parsed.find_links):
            problems.append(
                f"the wheels route (constraint in plugins.zip) needs '--find-links {PLUGINS_PATH}'"
            )
    else:
        for number in [n for n, _ in parsed.find_links] + ([parsed.no_index] if parsed.no_index else []):
            problems.append(
                f"line {number}: '--no-index' and '--find-links' belong to the plugins.zip wheels route, "
                f"which takes its constraints from plugins.zip too: write {_WHEELS_ROUTE}"
            )
        if not internet_access:
            for number, url in parsed.indexes:
                problems.append(
                    f"line {number}: index '{url}': the environment has no route to a package index "
                    f"(network mode 'isolated'); install from plugins.zip instead with {_WHEELS_ROUTE}, "
                    "or use network mode 'nat'"
                )
    for number, link in parsed.find_links:
        if link.rstrip("/") != PLUGINS_PATH:
            problems.append(
                f"line {number}: --find-links {link}: only {PLUGINS_PATH} (where MWAA extracts plugins.zip)"
            )

    # --- each requirement -----------------------------------------------------------------------
    wheels: dict[str, list[tuple[Version, str, frozenset[Tag]]]] = {}
    for file_name in plugin_files:
        if "/" not in file_name and file_name.endswith(".whl"):
            try:
                project, wheel_version, _, tags = parse_wheel_filename(file_name)
            except InvalidWheelFilename:
                continue
            wheels.setdefault(project, []).append((wheel_version, file_name, tags))

    resolved: list[ResolvedRequirement] = []
    seen: dict[str, int] = {}
    for number, text, requirement in parsed.requirements:
        name = canonicalize_name(requirement.name)
        if name in seen:
            problems.append(
                f"line {number}: '{text}': {requirement.name} is already listed on line {seen[name]}"
            )
            continue
        seen[name] = number
        if requirement.url:
            problems.append(
                f"line {number}: '{text}': direct references are not checked nor reproducible; "
                "install from an index or from wheels in plugins.zip"
            )
            continue
        installs = _resolve(number, text, requirement, name, airflow_version, image, problems)
        if installs is None:
            continue
        if route == "wheels":
            _check_wheel(number, text, name, installs, wheels.get(name, []), version, problems)
        resolved.append(ResolvedRequirement(name=name, requested=text, installs=installs))

    if not internet_access and route == "index" and resolved:
        problems.append(
            "the environment has no route to the internet (network mode 'isolated'), so pip can download "
            f"neither {', '.join(r.requested for r in resolved)} nor the constraints file; install from "
            "plugins.zip instead: put a constraints file and the wheel of each package (and of each of its "
            "dependencies the MWAA image lacks) at the root of the plugins folder, and write "
            f"{_WHEELS_ROUTE} in the requirements file; or use network mode 'nat'"
        )
    if problems:
        raise RequirementsError(f"{path}: " + "; ".join(problems))
    return CheckedRequirements(
        route=route,
        requirements=tuple(resolved),
        deploy=internet_access or route == "wheels",
        verified_against_image=image is not None,
    )


def _check_wheel(
    number: int,
    text: str,
    name: str,
    installs: str,
    wheels: list[tuple[Version, str, frozenset[Tag]]],
    version: versions.AirflowVersion,
    problems: list[str],
) -> None:
    """On the wheels route, plugins.zip must hold a wheel of ``name`` at ``installs`` that the
    image's Python can install (its interpreter tag; platforms are not checked)."""
    try:
        wanted: Version | None = Version(installs)
    except InvalidVersion:
        wanted = None
    matching = [(file_name, tags) for wheel_version, file_name, tags in wheels if wheel_version == wanted]
    if not matching:
        found = ", ".join(sorted(f"{name} {v}" for v, _, _ in wheels)) or "none"
        problems.append(
            f"line {number}: '{text}' installs {name} {installs}, but plugins.zip has no wheel of it "
            f"at its root (found: {found})"
        )
    elif not any(_runs_on(tags, version.python) for _, tags in matching):
        files = ", ".join(sorted(file_name for file_name, _ in matching))
        problems.append(
            f"line {number}: '{text}': no wheel of {name} {installs} in plugins.zip installs on Python "
            f"{version.python}, the Python of the MWAA {version.version} image (found: {files})"
        )


def _runs_on(tags: frozenset[Tag], python: str) -> bool:
    """Whether a wheel with ``tags`` installs on CPython ``python`` (e.g. ``'3.12'``), as far as
    its interpreter and ABI tags tell: ``py3``/``py3X`` (X up to the minor), ``cp3Y`` of exactly
    that minor, or the stable ABI (``abi3``) of an older or equal minor."""
    minor = int(python.split(".")[1])
    for tag in tags:
        pure = re.fullmatch(r"py3(\d*)", tag.interpreter)
        if pure and (not pure.group(1) or int(pure.group(1)) <= minor):
            return True
        cpython = re.fullmatch(r"cp3(\d+)", tag.interpreter)
        if cpython and (
            int(cpython.group(1)) == minor or (tag.abi == "abi3" and int(cpython.group(1)) <= minor)
        ):
            return True
    return False


def _resolve(
    number: int,
    text: str,
    requirement: Requirement,
    name: str,
    airflow_version: str,
    image: ImageConstraints | None,
    problems: list[str],
) -> str | None:
    """The version ``requirement`` installs, or None after recording why it cannot be installed."""
    pins = image.pins if image else {"apache-airflow": airflow_version}
    protected = image.protected if image else frozenset({"apache-airflow"})
    pin = pins.get(name)
    if pin is not None:
        if requirement.specifier.contains(pin, prereleases=True):
            return pin
        if name in protected:
            problems.append(
                f"line {number}: '{text}' conflicts with {requirement.name} {pin} of the MWAA "
                f"{airflow_version} image, which MWAA does not let requirements override; remove the "
                f"line or write '{requirement.name}=={pin}'"
            )
        else:
            problems.append(
                f"line {number}: '{text}' contradicts the Airflow {airflow_version} constraints, which pin "
                f"{requirement.name}=={pin}; write '{requirement.name}' (pip then installs {pin}) or "
                f"'{requirement.name}=={pin}'"
            )
        return None
    exact = _exact_pin(requirement.specifier)
    if exact is not None:
        return exact
    if image is None:
        problems.append(
            f"line {number}: '{text}' is not pinned with '=='; this project does not ship the Airflow "
            f"{airflow_version} constraints, so it cannot tell what an unpinned requirement installs: "
            f"write '{requirement.name}==<version>'"
        )
    else:
        problems.append(
            f"line {number}: '{text}' is not in the Airflow {airflow_version} constraints, so it must be "
            f"pinned with '==': write '{requirement.name}==<version>'"
        )
    return None
