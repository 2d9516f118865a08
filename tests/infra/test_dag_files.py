"""Every DAG file a profile deploys compiles at synth, or the synth fails naming file, line and
error (mwaa_constructs.dag_files.compile_dag_files, called by stacks.build_profile_stacks)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from mwaa_constructs import ArtifactError
from mwaa_constructs.dag_files import compile_dag_files
from platform_config import load_profile
from stacks import build_profile_stacks
from tests.infra.conftest import cdk_context, copy_sources

VALID = "from airflow.sdk import dag\n\n\n@dag(schedule=None)\ndef fine():\n    pass\n\n\nfine()\n"


def _folder(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "dags"
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


def test_a_syntax_error_is_reported_with_its_file_line_and_message(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"fine.py": VALID, "x.py": "import os\n\nrows = sum((1, 2)\n"})
    assert compile_dag_files(folder, shown_as="dags") == ["dags/x.py:3: SyntaxError: '(' was never closed"]


def test_every_broken_file_is_reported_in_support_packages_too(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "a.py": "def f():\nreturn 1\n",
            "lib/helpers.py": "if True:\n\tx = 1\n        y = 2\n",
            "lib/encoded.py": b"# -*- coding: utf-8 -*-\nname = '\xff'\n",
        },
    )
    assert compile_dag_files(folder, shown_as="teams/t/dags") == [
        "teams/t/dags/a.py:2: IndentationError: expected an indented block after function definition "
        "on line 1",
        "teams/t/dags/lib/encoded.py:2: SyntaxError: (unicode error) 'utf-8' codec can't decode byte 0xff "
        "in position 0: invalid start byte",
        "teams/t/dags/lib/helpers.py:3: TabError: inconsistent use of tabs and spaces in indentation",
    ]


def test_files_that_are_not_deployed_or_not_python_are_not_compiled(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "fine.py": VALID,
            "test_fine.py": "def (:\n",
            "tests/helpers.py": "def (:\n",
            "query.sql": "SELECT (\n",
            "__pycache__/old.py": "def (:\n",
        },
    )
    assert compile_dag_files(folder, shown_as="dags") == []


def _profile(repo: Path) -> object:
    raw = {
        **cdk_context()["profiles"]["prod"],
        "artifacts": {"dags": "dags", "plugins": None, "startup_script": None},
    }
    return load_profile({"prod": raw}, "prod", root=repo)


def test_the_synth_of_a_profile_fails_on_a_dag_that_does_not_compile(tmp_path: Path) -> None:
    repo = copy_sources(tmp_path / "repo")
    (repo / "dags" / "broken_report.py").write_text("from airflow.sdk import dag\n\nx = (1,\n")
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    with pytest.raises(ArtifactError) as caught:
        build_profile_stacks(app, _profile(repo), root=repo)
    assert str(caught.value) == (
        "profile 'prod': 1 DAG file(s) do not compile, and MWAA could not import them; fix them "
        "before deploying:\n  dags/broken_report.py:3: SyntaxError: '(' was never closed"
    )
    # Nothing was built: the check runs before any construct.
    assert not [c for c in app.node.children if isinstance(c, cdk.Stack)]


def test_a_profile_whose_dags_compile_synthesizes(tmp_path: Path) -> None:
    repo = copy_sources(tmp_path / "repo")
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    built = build_profile_stacks(app, _profile(repo), root=repo)
    assert built.platform.artifacts.dag_files
