"""The DAG folder a profile deploys, as MWAA will see it, assembled on disk.

A profile's environment reads one DAG prefix, filled by up to two deployments: the profile's own
``artifacts.dags`` folder, and with ``sample_data`` on the sample's ``movie_list/`` folder. The
DAG checks and local runs work on the same merged tree, so that they see the same imports,
duplicates and ``.airflowignore`` rules as the environment.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mwaa_constructs.dag_files import list_dag_files
from platform_config import Profile, load_profiles, read_cdk_profiles

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DAGS = ROOT / "sample" / "dags"
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
    if profile.sample_data:
        for name in list_dag_files(SAMPLE_DAGS):
            files[name] = SAMPLE_DAGS / name
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
