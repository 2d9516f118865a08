"""The rules across settings that ``mwaa_rules.rules`` holds for the profile model and the
construct: a class and its sizes, a worker replacement strategy and the region. Expected values
are written out (MWAA user guide, "Amazon MWAA environment class"; "Updating an environment")."""

from __future__ import annotations

import pytest

from mwaa_rules import rules

SMALL_OK = {"schedulers": 2, "min_webservers": 2, "max_webservers": 5, "min_workers": 1, "max_workers": 25}


def _problems(environment_class: str, **sizes: int | None) -> list[tuple[str, int, object]]:
    found = rules.sizing_problems(environment_class, **{**SMALL_OK, **sizes})
    return [(p.setting, p.value, p.exceeds or (p.low, p.high)) for p in found]


def test_a_standard_class_allows_its_ranges() -> None:
    assert _problems("mw1.small") == []
    assert _problems("mw1.2xlarge", schedulers=5, min_webservers=5, max_webservers=5) == []


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ({"schedulers": 1}, [("schedulers", 1, (2, 5))]),
        ({"schedulers": 6}, [("schedulers", 6, (2, 5))]),
        ({"max_webservers": 6}, [("max_webservers", 6, (2, 5))]),
        ({"min_workers": 0}, [("min_workers", 0, (1, 25))]),
        ({"max_workers": 26}, [("max_workers", 26, (1, 25))]),
        ({"min_webservers": 4, "max_webservers": 3}, [("min_webservers", 4, "max_webservers")]),
        (
            {"min_workers": 30, "max_workers": 3},
            [("min_workers", 30, (1, 25)), ("min_workers", 30, "max_workers")],
        ),
    ],
)
def test_a_standard_class_refuses_what_is_outside(sizes: dict[str, int], expected: list[object]) -> None:
    assert _problems("mw1.small", **sizes) == expected


def test_micro_allows_exactly_one_of_each() -> None:
    one = dict.fromkeys(SMALL_OK, 1)
    assert rules.sizing_problems("mw1.micro", **one) == []
    assert _problems("mw1.micro", **{**one, "schedulers": 2, "max_workers": 2}) == [
        ("schedulers", 2, (1, 1)),
        ("max_workers", 2, (1, 1)),
    ]


def test_an_unknown_size_is_not_checked() -> None:
    # A token, or a value the caller already refused for its type.
    assert _problems("mw1.small", schedulers=None, min_workers=None, max_workers=0) == [
        ("max_workers", 0, (1, 25))
    ]


@pytest.mark.parametrize("region", ["ca-west-1", "ap-southeast-5"])
def test_graceful_replacement_is_refused_where_mwaa_does_not_offer_it(region: str) -> None:
    other = "ap-southeast-5" if region == "ca-west-1" else "ca-west-1"
    assert rules.worker_replacement_problem("GRACEFUL", region) == (
        f"MWAA offers no GRACEFUL worker replacement in {region} (nor in '{other}'): "
        "use 'FORCED' or leave it unset"
    )
    assert rules.worker_replacement_problem("FORCED", region) is None


@pytest.mark.parametrize("region", ["eu-west-1", None])
def test_graceful_replacement_is_allowed_elsewhere_or_where_the_region_is_unknown(region: str | None) -> None:
    assert rules.worker_replacement_problem("GRACEFUL", region) is None
