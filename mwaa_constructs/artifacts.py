"""Airflow artifacts (DAGs, plugins.zip, requirements, startup script) deployed as assets.

Each artifact has its own ``BucketDeployment``, so a change to one never touches the resources
another one feeds. DAGs need no environment update (MWAA syncs the DAG prefix about every 30 s);
plugins, requirements and the startup script reach the environment as a fixed key plus the S3
object version their deployment produced, which changes exactly when their content changes.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import custom_resources as cr
from constructs import Construct

from mwaa_constructs.dag_files import DAG_EXCLUDES, list_dag_files
from mwaa_constructs.environment import S3ObjectVersion
from mwaa_constructs.nag import acknowledge_aws_custom_resource, acknowledge_bucket_deployment
from mwaa_rules.requirements import (
    CheckedRequirements,
    RequirementsError,
    ResolvedRequirement,
    check_requirements,
)

# MWAA recommends a plugins.zip under 1 GB and sets no explicit limit; what it does limit is
# time: if the environment cannot install its dependencies within ten minutes, the update times
# out and rolls back (https://docs.aws.amazon.com/mwaa/latest/userguide/configuring-dag-import-plugins.html
# #configuring-dag-plugins-quota). The guide documents no size limit for requirements.txt or the
# startup script. This project refuses a plugins.zip over the recommendation.
PLUGINS_SIZE_LIMIT = 1024**3
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

MIB = 1024**2
# BucketDeployment's handler downloads each asset archive into its /tmp and extracts it there,
# keeping both until it has synced them (aws-cdk-lib, custom-resource-handlers
# aws-s3-deployment/bucket-deployment-handler/index.py, s3_deploy). Lambda's /tmp is 512 MiB
# unless set, at most 10,240 MiB; memory is 128 to 10,240 MB, and CPU grows with it
# (https://docs.aws.amazon.com/lambda/latest/dg/API_EphemeralStorage.html,
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_DEFAULT_TMP_MIB = 512
LAMBDA_MAX_TMP_MIB = 10_240
# Headroom over what the archive and its contents take: a quarter more, plus room for the AWS
# CLI's own files. /tmp is raised in whole GiB so that a slightly larger artifact keeps the same
# handler (each distinct setting is a separate Lambda function of the stack).
TMP_HEADROOM = 1.25
TMP_RESERVE_MIB = 64
TMP_STEP_MIB = 1024
# BucketDeployment's own default memory (aws-cdk-lib 2.275: ``memoryLimit ?? 1024``), and the
# memory for a handler that moves more than its default /tmp holds: CPU grows with memory (a
# whole vCPU from 1,769 MB, the quotas page above), so that it unpacks and uploads within its
# 15-minute timeout; below the 3,008 MB that new accounts may be limited to.
BUCKET_DEPLOYMENT_DEFAULT_MEMORY_MB = 1024
LARGE_ARTIFACT_MEMORY_MB = 2048


class ArtifactError(ValueError):
    """An artifact MWAA would reject or fail on, found at synth time."""


@dataclass(frozen=True)
class ArtifactSummary:
    """What one artifact deploys: its key in the bucket and a hash of its content."""

    key: str
    sha256: str


class _SizingArguments(TypedDict, total=False):
    """The BucketDeployment keyword arguments a :class:`DeploymentSizing` sets."""

    ephemeral_storage_size: cdk.Size
    memory_limit: int


@dataclass(frozen=True)
class DeploymentSizing:
    """What one artifact's deployment handler holds in ``/tmp`` and the Lambda settings it gets.

    ``archive_bytes`` is the asset archive the handler downloads (an upper bound for an archive
    the CDK CLI makes when it publishes), ``unpacked_bytes`` what it extracts. ``None`` settings
    keep BucketDeployment's defaults (512 MiB of ``/tmp``, 1024 MB of memory)."""

    artifact: str
    archive_bytes: int
    unpacked_bytes: int
    ephemeral_storage_mib: int | None
    memory_mb: int | None

    @property
    def tmp_bytes(self) -> int:
        """Bytes in ``/tmp`` while the handler syncs: the archive and what it unpacks to."""
        return self.archive_bytes + self.unpacked_bytes


def asset_sizes(root: Path, files: list[str]) -> tuple[int, int]:
    """(archive bytes, unpacked bytes) of an asset made of ``files`` of ``root``, from the file
    sizes alone (no clock, no compression run): the unpacked size is the sum of the files' sizes;
    the archive is bounded by the files stored as they are plus deflate's worst-case growth
    (under 0.1 %) and each entry's ZIP headers (a local header and a central directory record,
    each holding the name, with ZIP64 fields), plus the end records."""
    return _archive_bound([(name, (root / name).stat().st_size) for name in files])


def _archive_bound(entries: list[tuple[str, int]]) -> tuple[int, int]:
    unpacked = sum(size for _, size in entries)
    headers = 1024 + sum(2 * len(name.encode()) + 256 for name, _ in entries)
    return unpacked + unpacked // 1024 + headers, unpacked


def size_deployment(artifact: str, *, archive_bytes: int, unpacked_bytes: int) -> DeploymentSizing:
    """The ``/tmp`` and memory of the handler that deploys ``artifact``, or an
    :class:`ArtifactError` when the archive and its contents cannot fit in Lambda's largest
    ``/tmp``. Within the default 512 MiB (with headroom) the defaults are kept."""
    needed = archive_bytes + unpacked_bytes
    needed_mib = math.ceil(needed / MIB)
    if needed_mib > LAMBDA_MAX_TMP_MIB:
        raise ArtifactError(
            f"{artifact}: its deployment needs {needed} bytes ({needed_mib} MiB) in the "
            f"BucketDeployment handler's /tmp (an asset archive of up to {archive_bytes} bytes "
            f"plus {unpacked_bytes} bytes unpacked); Lambda allows at most {LAMBDA_MAX_TMP_MIB} MiB "
            "of /tmp: make the artifact smaller or move large files out of it"
        )
    planned_mib = math.ceil(needed * TMP_HEADROOM / MIB) + TMP_RESERVE_MIB
    if planned_mib <= LAMBDA_DEFAULT_TMP_MIB:
        return DeploymentSizing(artifact, archive_bytes, unpacked_bytes, None, None)
    storage_mib = min(LAMBDA_MAX_TMP_MIB, math.ceil(planned_mib / TMP_STEP_MIB) * TMP_STEP_MIB)
    return DeploymentSizing(artifact, archive_bytes, unpacked_bytes, storage_mib, LARGE_ARTIFACT_MEMORY_MB)


def check_dags(dags_dir: Path, files: list[str]) -> None:
    """At least one Python file must define a DAG (Airflow's own safe-mode heuristic: the file
    mentions both 'airflow' and 'dag'), or MWAA refuses to create the environment."""
    for name in files:
        if name.endswith(".py"):
            text = (dags_dir / name).read_text(encoding="utf-8", errors="replace").lower()
            if "airflow" in text and "dag" in text:
                return
    raise ArtifactError(
        f"{dags_dir}: no DAG found; MWAA needs at least one .py file defining a DAG in the DAG "
        f"folder (files seen: {', '.join(files) or 'none'})"
    )


def check_startup_script(path: Path) -> None:
    """MWAA runs the startup script with bash on Linux: a shebang and LF line endings."""
    data = path.read_bytes()
    problems = []
    if not data.startswith(b"#!"):
        problems.append("no shebang on the first line (e.g. '#!/bin/bash')")
    if b"\r\n" in data:
        problems.append("Windows (CRLF) line endings; convert to LF")
    if problems:
        raise ArtifactError(f"{path}: " + "; ".join(problems))


def write_deterministic_zip(root: Path, files: Sequence[str], target: Path) -> None:
    """Zip ``files`` (paths relative to ``root``, in the order given) into ``target`` unless it
    exists: fixed timestamps and modes, so the same content gives the same bytes (and asset
    hash). Written beside ``target`` and renamed, so that parallel synths never read half a zip."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / name).read_bytes(), compresslevel=9)
    partial.replace(target)


def list_plugin_files(plugins_dir: Path) -> list[str]:
    """Files zipped into plugins.zip: the deployable files, without the folder's README."""
    return [name for name in list_dag_files(plugins_dir) if name.lower() != "readme.md"]


def build_plugins_zip(
    plugins_dir: Path, size_limit: int = PLUGINS_SIZE_LIMIT, files: list[str] | None = None
) -> tuple[Path, str]:
    """Zip ``plugins_dir`` with its modules at the root, byte-identically for the same content
    (sorted entries, fixed timestamps and modes), into a folder named after the content hash,
    reused when it exists. Returns the folder and the hash."""
    files = list_plugin_files(plugins_dir) if files is None else files
    content_hash = _hash_files(plugins_dir, files)
    out_dir = Path(tempfile.gettempdir()) / "mwaa-plugins" / content_hash
    target = out_dir / "plugins.zip"
    write_deterministic_zip(plugins_dir, files, target)
    if target.stat().st_size > size_limit:
        raise ArtifactError(
            f"{plugins_dir}: plugins.zip is {target.stat().st_size} bytes; this project allows at most "
            f"{size_limit} (MWAA recommends less than 1 GB: larger files slow every container start)"
        )
    return out_dir, content_hash


class AirflowArtifacts(Construct):
    """Deploys an environment's DAGs, plugins.zip, requirements and startup script.

    - DAGs from ``dags_dir`` go under ``dag_s3_path/``, pruned within that prefix only, without
      caches or test files (:data:`DAG_EXCLUDES`). Keys in ``keep_in_dag_folder`` (relative to the
      prefix) are neither pruned nor overwritten: other deployments own them.
    - ``plugins_dir`` is zipped deterministically to ``plugins/plugins.zip``;
      ``requirements_file`` goes to ``requirements/requirements.txt``; ``startup_script`` to
      ``startup/startup.sh``. :attr:`plugins`, :attr:`requirements` and :attr:`startup_script`
      are the key plus the object version their deployment produced, for the environment.

    Every input is checked at synth (:class:`ArtifactError`): a DAG folder without a DAG, a
    requirements file MWAA would fail to install (:func:`mwaa_rules.requirements.check_requirements`
    against the constraints of ``airflow_version``'s image and the files of plugins.zip), a
    plugins.zip over MWAA's recommended size, a startup script without shebang or with CRLF line
    endings, an artifact whose deployment cannot fit in Lambda's largest ``/tmp``.
    :attr:`resolved_requirements` says what each requirement installs.

    Each deployment's handler gets the ``/tmp`` and memory its artifact needs, measured from the
    files (:func:`size_deployment`, recorded in :attr:`deployment_sizes`): BucketDeployment's
    defaults (512 MiB of ``/tmp``, 1024 MB of memory) while the archive and its contents fit in
    512 MiB with headroom, else ``/tmp`` in whole GiB and 2048 MB of memory.

    Without ``internet_access`` (an isolated network) pip can neither reach an index nor download
    the public constraints file: packages must come as wheels in plugins.zip (the wheels route
    of the requirements file). A file that holds only the public constraint line installs
    nothing and is then not deployed (MWAA applies the image's constraints itself).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        airflow_version: str,
        dags_dir: Path,
        dag_s3_path: str = "dags",
        plugins_dir: Path | None = None,
        requirements_file: Path | None = None,
        startup_script: Path | None = None,
        keep_in_dag_folder: tuple[str, ...] = (),
        internet_access: bool = True,
    ) -> None:
        super().__init__(scope, id)
        self._bucket = bucket
        self.dag_files = list_dag_files(dags_dir)
        check_dags(dags_dir, self.dag_files)
        self.summaries: dict[str, ArtifactSummary] = {}
        # Per deployment (construct id): what its handler holds in /tmp and the settings it gets.
        self.deployment_sizes: dict[str, DeploymentSizing] = {}

        archive, unpacked = asset_sizes(dags_dir, self.dag_files)
        self.dags_deployment = s3deploy.BucketDeployment(
            self,
            "Dags",
            sources=[s3deploy.Source.asset(str(dags_dir), exclude=list(DAG_EXCLUDES))],
            destination_bucket=bucket,
            destination_key_prefix=f"{dag_s3_path}/",
            prune=True,
            exclude=list(keep_in_dag_folder),
            retain_on_delete=True,
            **self._sizing("Dags", f"{dags_dir} (DAG folder)", archive, unpacked),
        )
        self._acknowledge(self.dags_deployment)
        self.summaries["dags"] = ArtifactSummary(f"{dag_s3_path}/", _hash_files(dags_dir, self.dag_files))

        self.plugins: S3ObjectVersion | None = None
        self.requirements: S3ObjectVersion | None = None
        self.startup_script: S3ObjectVersion | None = None
        plugin_files = list_plugin_files(plugins_dir) if plugins_dir is not None else []
        if plugins_dir is not None and plugin_files:
            folder, digest = build_plugins_zip(plugins_dir, files=plugin_files)
            # The handler moves plugins.zip as it is (MWAA unpacks it on its containers).
            archive, unpacked = asset_sizes(folder, ["plugins.zip"])
            self.plugins = self._deploy_file(
                "Plugins",
                "plugins/",
                "plugins.zip",
                s3deploy.Source.asset(str(folder)),
                digest,
                self._sizing("Plugins", f"{plugins_dir} (plugins.zip)", archive, unpacked),
            )
        self.requirements_check: CheckedRequirements | None = None
        if requirements_file is not None:
            try:
                self.requirements_check = check_requirements(
                    requirements_file,
                    airflow_version,
                    internet_access=internet_access,
                    plugin_files=plugin_files,
                )
            except RequirementsError as error:
                raise ArtifactError(str(error)) from None
            if self.requirements_check.deploy:
                self.requirements = self._deploy_text(
                    "Requirements", "requirements/", "requirements.txt", requirements_file
                )
        if startup_script is not None:
            check_startup_script(startup_script)
            self.startup_script = self._deploy_text("StartupScript", "startup/", "startup.sh", startup_script)

    @property
    def resolved_requirements(self) -> tuple[ResolvedRequirement, ...]:
        """Each requirement of the requirements file and the version pip installs on MWAA."""
        return self.requirements_check.requirements if self.requirements_check else ()

    def _sizing(self, id: str, artifact: str, archive: int, unpacked: int) -> _SizingArguments:
        """BucketDeployment keyword arguments for the /tmp and memory ``artifact`` needs (none
        when the defaults fit), recorded in :attr:`deployment_sizes`."""
        sizing = size_deployment(artifact, archive_bytes=archive, unpacked_bytes=unpacked)
        self.deployment_sizes[id] = sizing
        arguments: _SizingArguments = {}
        if sizing.ephemeral_storage_mib is not None:
            arguments["ephemeral_storage_size"] = cdk.Size.mebibytes(sizing.ephemeral_storage_mib)
        if sizing.memory_mb is not None and sizing.memory_mb != BUCKET_DEPLOYMENT_DEFAULT_MEMORY_MB:
            arguments["memory_limit"] = sizing.memory_mb
        return arguments

    def _acknowledge(self, deployment: s3deploy.BucketDeployment) -> None:
        # One handler serves every BucketDeployment of the stack with the same settings; a
        # deployment with other settings gets a handler of its own, acknowledged here as well.
        acknowledge_bucket_deployment(
            deployment,
            destination=self._bucket,
            purpose="BucketDeployment copies Airflow artifacts into the DAG bucket",
        )

    def _deploy_text(self, id: str, prefix: str, name: str, path: Path) -> S3ObjectVersion:
        text = path.read_text(encoding="utf-8")
        data = text.encode()
        digest = hashlib.sha256(data).hexdigest()
        archive, unpacked = _archive_bound([(name, len(data))])
        return self._deploy_file(
            id,
            prefix,
            name,
            s3deploy.Source.data(name, text),
            digest,
            self._sizing(id, str(path), archive, unpacked),
        )

    def _deploy_file(
        self,
        id: str,
        prefix: str,
        name: str,
        source: s3deploy.ISource,
        digest: str,
        sizing: _SizingArguments,
    ) -> S3ObjectVersion:
        key = f"{prefix}{name}"
        deployment = s3deploy.BucketDeployment(
            self,
            id,
            sources=[source],
            destination_bucket=self._bucket,
            destination_key_prefix=prefix,
            prune=False,
            retain_on_delete=True,
            **sizing,
        )
        self._acknowledge(deployment)
        # BucketDeployment reports object versions only for files kept zipped; these must be
        # extracted, so the version is read back right after the upload. The content hash in the
        # physical id makes this run again exactly when the content changed.
        statements = [
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[self._bucket.arn_for_objects(key)],
            )
        ]
        key_of_bucket = self._bucket.encryption_key
        if key_of_bucket is not None:
            # HeadObject of an SSE-KMS object needs kms:Decrypt, made by S3 on the caller's
            # behalf: the key is usable through S3 of this region only, never directly.
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[key_of_bucket.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{cdk.Stack.of(self).region}.amazonaws.com"}
                    },
                )
            )
        version = cr.AwsCustomResource(
            self,
            f"{id}Version",
            on_update=cr.AwsSdkCall(
                service="S3",
                action="headObject",
                parameters={"Bucket": self._bucket.bucket_name, "Key": key},
                physical_resource_id=cr.PhysicalResourceId.of(f"{key}@{digest[:20]}"),
                output_paths=["VersionId"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(statements),
            install_latest_aws_sdk=False,
        )
        version.node.add_dependency(deployment)
        acknowledge_aws_custom_resource(version, what="CDK's AwsCustomResource (HeadObject)")
        self.summaries[id] = ArtifactSummary(key, digest)
        return S3ObjectVersion(key=key, version=version.get_response_field("VersionId"))


def _hash_files(root: Path, files: list[str]) -> str:
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()
