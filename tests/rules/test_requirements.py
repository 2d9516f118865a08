"""The requirements checker against the shipped constraints of the MWAA images: every route, every
rule, with the exact message a user reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from mwaa_rules import versions
from mwaa_rules.requirements import (
    PLUGINS_PATH,
    CheckedRequirements,
    RequirementsError,
    ResolvedRequirement,
    check_requirements,
    image_constraints,
)

URL_3_3_1 = "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt"
CONSTRAINT = f'--constraint "{URL_3_3_1}"'
WHEELS_HEADER = f"--no-index\n--find-links {PLUGINS_PATH}\n--constraint {PLUGINS_PATH}/constraints.txt\n"
WHEELS_ROUTE = (
    f"'--no-index', '--find-links {PLUGINS_PATH}' and '--constraint {PLUGINS_PATH}/<constraints file>'"
)


def check(tmp_path: Path, content: str, version: str = "3.3.1", **kwargs: object) -> CheckedRequirements:
    path = tmp_path / "mwaa-requirements.txt"
    path.write_text(content)
    return check_requirements(path, version, **kwargs)  # type: ignore[arg-type]


def rejected(tmp_path: Path, content: str, version: str = "3.3.1", **kwargs: object) -> str:
    """The message after the file name of the error ``content`` raises."""
    with pytest.raises(RequirementsError) as error:
        check(tmp_path, content, version, **kwargs)
    prefix = f"{tmp_path / 'mwaa-requirements.txt'}: "
    assert str(error.value).startswith(prefix)
    return str(error.value)[len(prefix) :]


# --- the shipped data ------------------------------------------------------------------------


@pytest.mark.parametrize("version", [v.version for v in versions.SUPPORTED_VERSIONS if v.image_data])
def test_every_version_with_image_data_ships_both_files(version: str) -> None:
    image = image_constraints(version)
    assert image is not None
    assert image.pins["apache-airflow"] == version
    assert "flask" in image.protected and "apache-airflow-providers-amazon" in image.protected
    assert "pandas" in image.pins and "pandas" not in image.protected


def test_versions_without_image_data_have_none() -> None:
    assert [v.version for v in versions.SUPPORTED_VERSIONS if image_constraints(v.version) is None] == [
        "2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0",
    ]  # fmt: skip


def test_essential_constraints_override_the_airflow_constraints() -> None:
    image = image_constraints("3.3.1")
    assert image is not None
    assert image.pins["flask"] == "3.1.3"
    assert image.pins["fluent-logger"] == "0.11.1"  # only in the essential file
    assert image.pins["apache-airflow-providers-amazon"] == "9.34.0"


# --- index route -------------------------------------------------------------------------------


def test_unpinned_packages_of_the_constraints_resolve_to_the_constraint(tmp_path: Path) -> None:
    result = check(
        tmp_path,
        f"# comment\n{CONSTRAINT}\napache-airflow-providers-slack\npandas>=2  # inline\n"
        "simplejson==3.20.1\nApache_Airflow_Providers_Amazon\n",
    )
    assert result == CheckedRequirements(
        route="index",
        requirements=(
            ResolvedRequirement("apache-airflow-providers-slack", "apache-airflow-providers-slack", "9.10.2"),
            ResolvedRequirement("pandas", "pandas>=2", "3.0.5"),
            ResolvedRequirement("simplejson", "simplejson==3.20.1", "3.20.1"),
            ResolvedRequirement(
                "apache-airflow-providers-amazon", "Apache_Airflow_Providers_Amazon", "9.34.0"
            ),
        ),
        deploy=True,
        verified_against_image=True,
    )


def test_the_shipped_requirements_file_passes_for_the_default_version() -> None:
    root = Path(__file__).resolve().parents[2]
    result = check_requirements(root / "runtime" / "mwaa-requirements.txt", versions.DEFAULT_AIRFLOW_VERSION)
    assert result.requirements == () and result.deploy


def test_a_pin_that_contradicts_the_constraints_is_rejected(tmp_path: Path) -> None:
    assert rejected(tmp_path, f"{CONSTRAINT}\npandas==2.2.3\n") == (
        "line 2: 'pandas==2.2.3' contradicts the Airflow 3.3.1 constraints, which pin pandas==3.0.5; "
        "write 'pandas' (pip then installs 3.0.5) or 'pandas==3.0.5'"
    )
    assert "'pandas<3' contradicts" in rejected(tmp_path, f"{CONSTRAINT}\npandas<3\n")


@pytest.mark.parametrize(
    ("line", "name", "pin"),
    [
        ("apache-airflow==3.2.1", "apache-airflow", "3.3.1"),
        ("flask>=4", "flask", "3.1.3"),
        ("celery==5.5.0", "celery", "5.6.3"),
        ("apache-airflow-providers-amazon==9.0.0", "apache-airflow-providers-amazon", "9.34.0"),
    ],
)
def test_airflow_essential_packages_and_providers_cannot_be_overridden(
    tmp_path: Path, line: str, name: str, pin: str
) -> None:
    assert rejected(tmp_path, f"{CONSTRAINT}\n{line}\n") == (
        f"line 2: '{line}' conflicts with {name} {pin} of the MWAA 3.3.1 image, which MWAA does not "
        f"let requirements override; remove the line or write '{name}=={pin}'"
    )


def test_the_image_version_of_a_protected_package_is_accepted(tmp_path: Path) -> None:
    result = check(tmp_path, f"{CONSTRAINT}\napache-airflow==3.3.1\nflask\n")
    assert [r.installs for r in result.requirements] == ["3.3.1", "3.1.3"]


@pytest.mark.parametrize("line", ["foo", "foo>=1", "foo==1.*", "foo~=1.0"])
def test_packages_the_constraints_do_not_cover_must_be_pinned(tmp_path: Path, line: str) -> None:
    assert rejected(tmp_path, f"{CONSTRAINT}\n{line}\n") == (
        f"line 2: '{line}' is not in the Airflow 3.3.1 constraints, so it must be pinned with '==': "
        "write 'foo==<version>'"
    )


def test_versions_without_image_data_need_every_requirement_pinned(tmp_path: Path) -> None:
    constraint = '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-2.10.3/constraints-3.11.txt"'
    assert rejected(tmp_path, f"{constraint}\napache-airflow-providers-slack\n", "2.10.3") == (
        "line 2: 'apache-airflow-providers-slack' is not pinned with '=='; this project does not ship "
        "the Airflow 2.10.3 constraints, so it cannot tell what an unpinned requirement installs: "
        "write 'apache-airflow-providers-slack==<version>'"
    )
    assert "conflicts with apache-airflow 2.10.3" in rejected(
        tmp_path, f"{constraint}\napache-airflow==2.11.0\n", "2.10.3"
    )
    result = check(tmp_path, f"{constraint}\napache-airflow-providers-slack==8.9.0\n", "2.10.3")
    assert result.requirements == (
        ResolvedRequirement(
            "apache-airflow-providers-slack", "apache-airflow-providers-slack==8.9.0", "8.9.0"
        ),
    )
    assert not result.verified_against_image


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "simplejson==3.20.1\n",
            f'missing the constraint line: --constraint "{URL_3_3_1}"',
        ),
        (
            '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.0.6/constraints-3.12.txt"\n',
            "line 1: constraint "
            "https://raw.githubusercontent.com/apache/airflow/constraints-3.0.6/constraints-3.12.txt "
            f"is not the one for Airflow 3.3.1 (expected {URL_3_3_1}, or a constraints file in plugins.zip: "
            f"{PLUGINS_PATH}/<file>)",
        ),
        (
            f"{CONSTRAINT}\n-c {URL_3_3_1}\n",
            "line 2: a second constraint line (the first is on line 1); keep one",
        ),
        (
            f"{CONSTRAINT}\n-r other.txt\n",
            "line 2: option '-r other.txt' is not supported; supported: --constraint, --index-url, "
            f"--extra-index-url, and --no-index with --find-links {PLUGINS_PATH} "
            "(the plugins.zip wheels route)",
        ),
        (f"{CONSTRAINT}\nfoo==1 bar\n", "line 2: cannot read requirement 'foo==1 bar'"),
        (
            f"{CONSTRAINT}\nsimplejson==3.20.1\nSimpleJSON==3.20.1\n",
            "line 3: 'SimpleJSON==3.20.1': SimpleJSON is already listed on line 2",
        ),
        (
            f"{CONSTRAINT}\nfoo @ https://example.com/foo-1.0.tar.gz\n",
            "line 2: 'foo @ https://example.com/foo-1.0.tar.gz': direct references are not checked nor "
            "reproducible; install from an index or from wheels in plugins.zip",
        ),
        (
            f"{CONSTRAINT}\n--find-links {PLUGINS_PATH}\n",
            "line 2: '--no-index' and '--find-links' belong to the plugins.zip wheels route, which takes "
            f"its constraints from plugins.zip too: write {WHEELS_ROUTE}",
        ),
    ],
)
def test_bad_files_are_rejected_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    assert rejected(tmp_path, content) == message


def test_constraint_line_forms_pip_accepts(tmp_path: Path) -> None:
    forms = (f"-c {URL_3_3_1}", f"-c{URL_3_3_1}", f"--constraint={URL_3_3_1}", f"--constraint '{URL_3_3_1}'")
    for line in forms:
        assert check(tmp_path, f"{line}\nsimplejson==3.20.1\n").route == "index"
    continued = f"{CONSTRAINT}\nsimplejson\\\n==3.20.1\n"
    assert check(tmp_path, continued).requirements[0].installs == "3.20.1"


def test_a_private_index_is_accepted_with_internet(tmp_path: Path) -> None:
    content = (
        f"{CONSTRAINT}\n--index-url https://example.com/simple\n"
        "--extra-index-url https://example-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/repo/simple/\n"
        "internal-lib==1.4.0\n"
    )
    result = check(tmp_path, content)
    assert result.route == "index" and result.requirements[0].installs == "1.4.0"


# --- network without internet ----------------------------------------------------------------


def test_isolated_constraint_only_file_is_not_deployed(tmp_path: Path) -> None:
    result = check(tmp_path, f"{CONSTRAINT}\n", internet_access=False)
    assert result.requirements == () and not result.deploy


def test_isolated_packages_from_an_index_are_rejected_with_the_wheels_route(tmp_path: Path) -> None:
    assert rejected(tmp_path, f"{CONSTRAINT}\nsimplejson==3.20.1\n", internet_access=False) == (
        "the environment has no route to the internet (network mode 'isolated'), so pip can download "
        "neither simplejson==3.20.1 nor the constraints file; install from plugins.zip instead: put a "
        "constraints file and the wheel of each package (and of each of its dependencies the MWAA image "
        "lacks) at the root of the plugins folder, and write "
        f"{WHEELS_ROUTE} in the requirements file; or use network mode 'nat'"
    )


def test_isolated_private_index_is_rejected(tmp_path: Path) -> None:
    message = rejected(
        tmp_path, f"{CONSTRAINT}\n--extra-index-url https://example.com/simple\n", internet_access=False
    )
    assert message == (
        "line 2: index 'https://example.com/simple': the environment has no route to a package index "
        f"(network mode 'isolated'); install from plugins.zip instead with {WHEELS_ROUTE}, or use "
        "network mode 'nat'"
    )


# --- wheels route ------------------------------------------------------------------------------


PLUGINS = ["constraints.txt", "internal_lib-1.4.0-py3-none-any.whl", "slack_sdk-3.39.0-py2.py3-none-any.whl"]


@pytest.mark.parametrize("internet_access", [False, True])
def test_the_wheels_route_is_deployed_on_any_network(tmp_path: Path, internet_access: bool) -> None:
    result = check(
        tmp_path,
        f"{WHEELS_HEADER}internal-lib==1.4.0\n",
        internet_access=internet_access,
        plugin_files=PLUGINS,
    )
    assert result == CheckedRequirements(
        route="wheels",
        requirements=(ResolvedRequirement("internal-lib", "internal-lib==1.4.0", "1.4.0"),),
        deploy=True,
        verified_against_image=True,
    )


@pytest.mark.parametrize(
    "wheel",
    [
        "internal_lib-1.4-py3-none-any.whl",
        "internal_lib-1.4.0-py2.py3-none-any.whl",
        "internal_lib-1.4.0-py312-none-any.whl",
        "internal_lib-1.4.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "internal_lib-1.4.0-cp39-abi3-manylinux_2_28_x86_64.whl",
    ],
)
def test_wheels_the_image_python_installs(tmp_path: Path, wheel: str) -> None:
    result = check(
        tmp_path,
        f"{WHEELS_HEADER}internal-lib==1.4.0\n",
        internet_access=False,
        plugin_files=["constraints.txt", wheel],
    )
    assert result.requirements[0].installs == "1.4.0"


def test_the_wheels_route_resolves_constraint_pins_to_the_wheel(tmp_path: Path) -> None:
    image = image_constraints("3.3.1")
    assert image is not None
    pin = image.pins["slack-sdk"]
    files = ["constraints.txt", f"slack_sdk-{pin}-py2.py3-none-any.whl"]
    result = check(tmp_path, f"{WHEELS_HEADER}slack-sdk\n", internet_access=False, plugin_files=files)
    assert result.requirements == (ResolvedRequirement("slack-sdk", "slack-sdk", pin),)


@pytest.mark.parametrize(
    ("content", "files", "message"),
    [
        (
            f"{WHEELS_HEADER}internal-lib==1.5.0\n",
            PLUGINS,
            "line 4: 'internal-lib==1.5.0' installs internal-lib 1.5.0, but plugins.zip has no wheel of it "
            "at its root (found: internal-lib 1.4.0)",
        ),
        (
            f"{WHEELS_HEADER}other-lib==1.0\n",
            [*PLUGINS, "wheels/other_lib-1.0-py3-none-any.whl"],
            "line 4: 'other-lib==1.0' installs other-lib 1.0, but plugins.zip has no wheel of it at its "
            "root (found: none)",
        ),
        (
            f"{WHEELS_HEADER}internal-lib==1.4.0\n",
            PLUGINS[1:],
            f"line 3: constraint {PLUGINS_PATH}/constraints.txt: plugins.zip has no 'constraints.txt'",
        ),
        (
            f"--find-links {PLUGINS_PATH}\n--constraint {PLUGINS_PATH}/constraints.txt\n"
            "internal-lib==1.4.0\n",
            PLUGINS,
            "the wheels route (constraint in plugins.zip) needs '--no-index' and "
            f"'--find-links {PLUGINS_PATH}'",
        ),
        (
            f"--no-index\n--constraint {PLUGINS_PATH}/constraints.txt\ninternal-lib==1.4.0\n",
            PLUGINS,
            f"the wheels route (constraint in plugins.zip) needs '--find-links {PLUGINS_PATH}'",
        ),
        (
            f"{WHEELS_HEADER}--find-links /opt/wheels\ninternal-lib==1.4.0\n",
            PLUGINS,
            f"line 4: --find-links /opt/wheels: only {PLUGINS_PATH} (where MWAA extracts plugins.zip)",
        ),
        (
            f"{WHEELS_HEADER}--extra-index-url https://example.com/simple\ninternal-lib==1.4.0\n",
            PLUGINS,
            "line 4: 'https://example.com/simple': a package index contradicts the wheels route's --no-index",
        ),
        (
            f"{WHEELS_HEADER}internal-lib==1.4.0\n",
            ["constraints.txt", "internal_lib-1.4.0-cp311-cp311-manylinux_2_17_x86_64.whl"],
            "line 4: 'internal-lib==1.4.0': no wheel of internal-lib 1.4.0 in plugins.zip installs on "
            "Python 3.12, the Python of the MWAA 3.3.1 image (found: "
            "internal_lib-1.4.0-cp311-cp311-manylinux_2_17_x86_64.whl)",
        ),
        (
            f"{WHEELS_HEADER}pandas==2.2.3\n",
            [*PLUGINS, "pandas-2.2.3-cp312-cp312-manylinux_2_17_x86_64.whl"],
            "line 4: 'pandas==2.2.3' contradicts the Airflow 3.3.1 constraints, which pin pandas==3.0.5; "
            "write 'pandas' (pip then installs 3.0.5) or 'pandas==3.0.5'",
        ),
    ],
)
def test_wheels_route_problems(tmp_path: Path, content: str, files: list[str], message: str) -> None:
    assert rejected(tmp_path, content, internet_access=False, plugin_files=files) == message
