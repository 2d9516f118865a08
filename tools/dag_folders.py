"""The DAG folder a profile deploys, as MWAA will see it, assembled on disk.

A profile's environment reads one DAG prefix, filled by the profile's own ``artifacts.dags``
folder and by each add-on the profile enables, into its own folder (its manifest's ``dags``). The
DAG checks and local runs work on the same merged tree, so that they see the same imports,
duplicates and ``.airflowignore`` rules as the environment. Beside each DAG folder, a
``dag_test.json`` may hold what a local run needs in place of the environment's secrets and
buckets (:func:`load_dag_test_settings`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mwaa_constructs.dag_files import list_dag_files
from platform_config import Profile, load_profiles, read_cdk_profiles

ROOT = Path(__file__).resolve().parent.parent
# Airflow's own default of [core] dagbag_import_timeout, which MWAA keeps unless the profile's
# airflow_configuration_options set it: a DAG file whose import takes longer fails to load.
DEFAULT_IMPORT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class DagTree:
    """One profile's deployed DAG files: relative path in the DAG folder -> source file."""

    profile: str
    files: dict[str, Path]
    import_timeout: float

    def materialize(self, target: Path) -> Path:
        """Copy the files to ``target`` (created); returns it."""
        for relative, source in self.files.items():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        target.mkdir(parents=True, exist_ok=True)
        return target

    def source_of(self, materialized: Path, path: str) -> str:
        """The repository path of a file of the materialized folder, for messages."""
        try:
            relative = Path(path).resolve().relative_to(materialized.resolve()).as_posix()
        except ValueError:
            return path
        source = self.files.get(relative)
        if source is None:
            return relative
        try:
            return source.relative_to(ROOT).as_posix()
        except ValueError:
            return str(source)


def dag_tree(profile: Profile, root: Path = ROOT) -> DagTree:
    """The merged DAG folder of ``profile``."""
    folder = root / profile.artifacts.dags
    files = {name: folder / name for name in list_dag_files(folder)}
    for addon in profile.enabled_addons:
        if addon.dag_folder is not None and addon.dag_source is not None:
            for name in list_dag_files(addon.dag_source):
                files[f"{addon.dag_folder}/{name}"] = addon.dag_source / name
    timeout = float(
        profile.airflow_configuration_options.get(
            "core.dagbag_import_timeout", DEFAULT_IMPORT_TIMEOUT_SECONDS
        )
    )
    return DagTree(profile=profile.name, files=dict(sorted(files.items())), import_timeout=timeout)


def shipped_profiles(cdk_json: Path = ROOT / "cdk.json", names: str | None = None) -> list[Profile]:
    """The profiles of ``cdk_json`` (all of them unless ``names``), validated against ``ROOT``."""
    profiles = read_cdk_profiles(cdk_json)
    return load_profiles(profiles, names if names is not None else ",".join(profiles), root=ROOT)


# -- Local test settings: connections, variables and S3 objects for DAG runs off MWAA ---------------

SETTINGS_FILE = "dag_test.json"
"""Name of a DAG folder's local test settings, kept beside the folder (``<dags>/../dag_test.json``),
so that it is never deployed with the DAGs. Read by ``make dag-test`` and the DAG test fixtures
(:mod:`tools.dag_testing`); the format is in docs/teams.md."""

_SETTINGS_KEYS = ("connections", "variables", "s3")


class SettingsFileError(ValueError):
    """A local test settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class DagTestSettings:
    """Connections (id -> Airflow connection object or URI), variables (key -> value) and S3
    objects (bucket -> key -> text) that a DAG meets in a local run, in place of the secrets
    backend and the buckets of an environment."""

    connections: dict[str, dict[str, object] | str]
    variables: dict[str, object]
    s3: dict[str, dict[str, str]]

    def environ(self) -> dict[str, str]:
        """The settings as the environment variables Airflow reads before any secrets backend:
        ``AIRFLOW_CONN_<ID>`` (a JSON connection or a URI) and ``AIRFLOW_VAR_<KEY>``."""
        env = {
            f"AIRFLOW_CONN_{conn_id.upper()}": value if isinstance(value, str) else json.dumps(value)
            for conn_id, value in self.connections.items()
        }
        env |= {
            f"AIRFLOW_VAR_{key.upper()}": value if isinstance(value, str) else json.dumps(value)
            for key, value in self.variables.items()
        }
        return env

    def create_s3_objects(self, client: Any, region: str) -> None:
        """Create the buckets and objects of ``s3`` with the boto3 S3 ``client`` (a local moto
        server or ``mock_aws``: never a real account)."""
        for bucket, objects in self.s3.items():
            location = (
                {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            client.create_bucket(Bucket=bucket, **location)
            for key, text in objects.items():
                client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))

    def merged(self, other: DagTestSettings) -> DagTestSettings:
        """These settings with ``other``'s added (``other`` wins where both set an entry)."""
        return DagTestSettings(
            connections=self.connections | other.connections,
            variables=self.variables | other.variables,
            s3={bucket: self.s3.get(bucket, {}) | other.s3.get(bucket, {}) for bucket in self.s3 | other.s3},
        )


NO_SETTINGS = DagTestSettings(connections={}, variables={}, s3={})


def load_dag_test_settings(path: Path) -> DagTestSettings:
    """The settings of ``path``; :data:`NO_SETTINGS` when there is no such file.

    Raises :class:`SettingsFileError` naming the file and the first key that is wrong."""
    if not path.is_file():
        return NO_SETTINGS
    shown = _shown(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SettingsFileError(
            f"{shown}, line {error.lineno}, column {error.colno}: invalid JSON ({error.msg})"
        ) from None
    if not isinstance(document, dict):
        raise SettingsFileError(f"{shown}: expected an object with {', '.join(_SETTINGS_KEYS)}")
    unknown = [key for key in document if key not in _SETTINGS_KEYS]
    if unknown:
        raise SettingsFileError(f"{shown}: unknown key {unknown[0]!r}; allowed: {', '.join(_SETTINGS_KEYS)}")
    connections = document.get("connections", {})
    variables = document.get("variables", {})
    s3 = document.get("s3", {})
    if not isinstance(connections, dict) or not all(
        isinstance(value, dict | str) for value in connections.values()
    ):
        raise SettingsFileError(
            f"{shown}: connections: expected an object of connection id -> "
            '{"conn_type": ..., "host": ..., "extra": {...}} or a connection URI'
        )
    for conn_id, value in connections.items():
        if isinstance(value, dict) and "conn_type" not in value:
            raise SettingsFileError(f"{shown}: connections.{conn_id}: no 'conn_type' (e.g. \"aws\")")
    if not isinstance(variables, dict):
        raise SettingsFileError(f"{shown}: variables: expected an object of variable key -> value")
    if not isinstance(s3, dict) or not all(
        isinstance(objects, dict) and all(isinstance(text, str) for text in objects.values())
        for objects in s3.values()
    ):
        raise SettingsFileError(f"{shown}: s3: expected an object of bucket -> {{key: text content}}")
    return DagTestSettings(connections=connections, variables=variables, s3=s3)


def settings_files(profile: Profile, root: Path = ROOT) -> list[Path]:
    """The local test settings files of the DAG folders that make up ``profile``'s DAG tree, in
    the order they are merged (the profile's own folder last, so that it wins)."""
    addons = [addon.folder / SETTINGS_FILE for addon in profile.enabled_addons if addon.dag_folder]
    return [*addons, (root / profile.artifacts.dags).parent / SETTINGS_FILE]


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
