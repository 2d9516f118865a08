"""The reusable part of the repository: the wheel's contents and the README's example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.infra.conftest import ROOT


def test_the_readme_example_synthesizes_with_cdk_nag(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Using the constructs in another CDK app") :]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example, "no Python example in the section"
    script = tmp_path / "example_app.py"
    script.write_text(example.group(1))
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path / "out")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "out" / "analytics-airflow.template.json").exists()


def test_the_wheel_holds_the_reusable_packages_only(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mwaa_platform-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("mwaa_platform-")}
    assert packages == {"mwaa_constructs", "platform_config", "mwaa_ops"}
    for package in packages:
        assert f"{package}/py.typed" in names
    assert "mwaa_constructs/environment.py" in names
    assert "mwaa_ops/data/prices/us-east-1.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mwaa-ops = mwaa_ops.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
