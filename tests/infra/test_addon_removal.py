"""The sample is an add-on, not a part of the platform: on a copy of the repository without it,
``make synth`` and the tests of everything that reads profiles pass.

The copy holds the files git tracks and those it does not ignore (the working tree as a commit
would take it), with ``.venv`` and ``node_modules`` linked, not copied, in a new git repository.
Then the sample is removed the way the sample's README says: its folder and its tests deleted,
its settings deleted from every profile of ``cdk.json``, and the files generated from the
add-ons' manifests and the profiles regenerated (``python -m platform_config.generated``: the
JSON Schemas and the configuration table of docs/configuration.md, which list the sample's setting;
``python -m tools.workflows``: the deploy workflow, whose smoke test ran the sample's DAG). That
this last step is needed, and only for those files, is checked too: before it, ``--check`` names
exactly them.

What runs in the copy, and why it is enough:

- ``make synth PROFILE=dev,prod``: the app, its profile checks, cdk-nag (AwsSolutions and the
  profiles' packs) and the synth summary with its cost line;
- the tests of every module that reads profiles, cdk.json or the add-on interface:
  ``tests/config`` (the profile model and the schema), ``tests/rules`` (the cost model, with the
  agreement of the profile and template paths on synthesized templates), ``tests/ci`` (the
  Makefile and the generated workflows), ``tests/ops`` (``mwaa-ops`` and ``make cost``, which
  read cdk.json), ``tests/dags/test_dag_folders.py`` (the DAG tree a profile deploys), and the
  modules of ``tests/infra`` that build profiles: ``test_app.py``, ``test_artifacts.py``,
  ``test_pipeline.py``, ``test_failure_is_retryable.py``, ``test_addons.py``. One test there is
  about the sample's own files and is deselected (:data:`ABOUT_THE_SAMPLE`).

Left out as long-running, and unable to depend on the sample: the other modules of
``tests/infra`` (each construct in a bare stack, no profile), ``tests/permissions`` (policy
generation over every profile variant; after a removal ``make policies`` and
``python -m tools.permissions.docs`` regenerate the policies and the permission tables, which
name the sample's resources), ``tests/tools`` (the change review: a git worktree and two synths
per case), the DAG import checks of ``tests/dags`` (a full Airflow import of each folder) and
``tests/ops/dr`` (a local Airflow server).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_config.profile import addon_manifests
from tests.infra.conftest import ROOT

SAMPLE = next((m for m in addon_manifests(ROOT) if m.name == "sample"), None)
pytestmark = pytest.mark.skipif(SAMPLE is None, reason="this repository has no sample add-on to remove")

RUN = (
    "tests/config",
    "tests/rules",
    "tests/ci",
    "tests/ops",
    "tests/dags/test_dag_folders.py",
    "tests/infra/test_app.py",
    "tests/infra/test_artifacts.py",
    "tests/infra/test_pipeline.py",
    "tests/infra/test_failure_is_retryable.py",
    "tests/infra/test_addons.py",
)
# A test outside tests/sample that is about the sample's own files: the MWAA Serverless workflow of
# sample/serverless/ (it goes with the sample; it should live in tests/sample/).
ABOUT_THE_SAMPLE = (
    "tests/rules/test_serverless_dag_factory.py::test_the_repository_has_definitions_to_load",
)
LINKED = (".venv", "node_modules")


def _environment(copy: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{copy / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _run(copy: Path, *command: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        cwd=copy,
        env=_environment(copy),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _copy_repository(target: Path) -> Path:
    """The working tree's tracked and untracked-but-not-ignored files, copied; the environments linked."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in sorted({name for name in listed.split("\0") if name}):
        source = ROOT / relative
        if not source.is_file() or relative.split("/")[0] in LINKED:
            continue  # deleted in the working tree, or a linked environment
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)
    for name in LINKED:
        (target / name).symlink_to(ROOT / name, target_is_directory=True)
    # A repository of its own (no history): the tests that ask git what it ignores get an answer.
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target


def _remove_the_sample(copy: Path) -> None:
    assert SAMPLE is not None
    shutil.rmtree(copy / SAMPLE.folder.name)
    shutil.rmtree(copy / "tests" / SAMPLE.folder.name)
    cdk_json = copy / "cdk.json"
    text = cdk_json.read_text()
    for key in SAMPLE.setting_keys:
        text, removed = re.subn(rf'^\s*"{re.escape(key)}":\s*[^,\n]+,\n', "", text, flags=re.MULTILINE)
        assert removed, f"cdk.json sets no {key}"
    cdk_json.write_text(text)


@dataclass(frozen=True)
class Copy:
    """The copy without the sample, and what ``python -m platform_config.generated --check`` said
    before the generated files were regenerated."""

    root: Path
    stale_before: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def without_the_sample(tmp_path_factory: pytest.TempPathFactory) -> Copy:
    copy = _copy_repository(tmp_path_factory.mktemp("copy") / "repo")
    _remove_the_sample(copy)
    python = str(copy / ".venv" / "bin" / "python")
    stale = _run(copy, python, "-m", "platform_config.generated", "--check")
    for module in ("platform_config.generated", "tools.workflows"):
        result = _run(copy, python, "-m", module)
        assert result.returncode == 0, result.stdout + result.stderr
    return Copy(root=copy, stale_before=stale)


def test_only_the_files_generated_from_the_add_ons_need_regenerating(without_the_sample: Copy) -> None:
    assert SAMPLE is not None
    before = without_the_sample.stale_before
    assert before.returncode == 1
    assert sorted(re.findall(r"error: (\S+) is not current", before.stderr)) == [
        "docs/configuration.md",
        "schemas/profile.schema.json",
    ]
    copy = without_the_sample.root
    assert (
        _run(
            copy, str(copy / ".venv" / "bin" / "python"), "-m", "platform_config.generated", "--check"
        ).returncode
        == 0
    )
    schema = (copy / "schemas" / "profile.schema.json").read_text()
    assert [key for key in SAMPLE.setting_keys if f'"{key}"' in schema] == []


def test_make_synth_passes_without_the_sample(without_the_sample: Copy) -> None:
    copy = without_the_sample.root
    # -o: the linked environments are installed; make must not reinstall them from the copy.
    result = _run(
        copy,
        "make",
        "-o",
        ".venv/.app-installed",
        "-o",
        "node_modules/.installed",
        "synth",
        "PROFILE=dev,prod",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "profile dev: stacks mwaa-dev-platform\n" in result.stderr
    assert "profile prod: stacks mwaa-prod-platform\n" in result.stderr
    templates = sorted(p.name for p in (copy / "cdk.out").glob("*.template.json"))
    assert templates == ["mwaa-dev-platform.template.json", "mwaa-prod-platform.template.json"]


def test_the_tests_of_everything_that_reads_profiles_pass_without_the_sample(
    without_the_sample: Copy,
) -> None:
    copy = without_the_sample.root
    workers = "2" if (os.cpu_count() or 1) > 1 else "0"
    result = _run(
        copy, str(copy / ".venv" / "bin" / "python"), "-m", "pytest", *RUN, "-q", "-p", "no:cacheprovider",
        "-n", workers, "--ignore=tests/ops/dr", *(f"--deselect={test}" for test in ABOUT_THE_SAMPLE),
        timeout=1800,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    summary = lines[-1] if lines else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
