"""The AWS Regions where Amazon MWAA is offered, and which of them the cost model can price.

Sources of the region list (both checked on 2026-12-04):

- AWS General Reference, "Amazon Managed Workflows for Apache Airflow endpoints and quotas",
  service endpoints table (https://docs.aws.amazon.com/general/latest/gr/mwaa.html), which the
  MWAA API reference names as the list of supported Regions;
- the SDK's endpoint data: botocore 1.43.56 ``botocore/data/endpoints.json``, service
  ``airflow``: 31 Regions of partition ``aws`` and 2 of ``aws-cn``, none of ``aws-us-gov``
  (``tests/rules/test_prices.py`` checks the installed botocore against this list).

No page found lists a separate set of Regions for Airflow 3, so every Region of the service is
listed. A Region with a price table has a file ``data/prices/<region>.json``; every other one
is in :data:`NO_PRICE_TABLE` with the reason, and an estimate for it names
:func:`nearest_priced_region` instead of guessing a price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """One AWS Region where MWAA is offered."""

    code: str
    name: str
    #: ``aws`` or ``aws-cn`` (the China Regions, priced in CNY by their operators).
    partition: str = "aws"

    @property
    def prefix(self) -> str:
        """The geography prefix of the code: ``eu`` for ``eu-west-1``."""
        return self.code.split("-", 1)[0]


#: Every Region where MWAA is offered. The order is part of the rule: it breaks ties in
#: :func:`nearest_priced_region` (the long-standing hub of each geography first).
MWAA_REGIONS: tuple[Region, ...] = (
    Region("us-east-1", "US East (N. Virginia)"),
    Region("us-east-2", "US East (Ohio)"),
    Region("us-west-2", "US West (Oregon)"),
    Region("us-west-1", "US West (N. California)"),
    Region("ca-central-1", "Canada (Central)"),
    Region("ca-west-1", "Canada West (Calgary)"),
    Region("sa-east-1", "South America (Sao Paulo)"),
    Region("eu-west-1", "Europe (Ireland)"),
    Region("eu-central-1", "Europe (Frankfurt)"),
    Region("eu-west-2", "Europe (London)"),
    Region("eu-west-3", "Europe (Paris)"),
    Region("eu-north-1", "Europe (Stockholm)"),
    Region("eu-south-1", "Europe (Milan)"),
    Region("eu-south-2", "Europe (Spain)"),
    Region("eu-central-2", "Europe (Zurich)"),
    Region("il-central-1", "Israel (Tel Aviv)"),
    Region("me-south-1", "Middle East (Bahrain)"),
    Region("me-central-1", "Middle East (UAE)"),
    Region("af-south-1", "Africa (Cape Town)"),
    Region("ap-northeast-1", "Asia Pacific (Tokyo)"),
    Region("ap-southeast-1", "Asia Pacific (Singapore)"),
    Region("ap-southeast-2", "Asia Pacific (Sydney)"),
    Region("ap-northeast-2", "Asia Pacific (Seoul)"),
    Region("ap-south-1", "Asia Pacific (Mumbai)"),
    Region("ap-northeast-3", "Asia Pacific (Osaka)"),
    Region("ap-east-1", "Asia Pacific (Hong Kong)"),
    Region("ap-south-2", "Asia Pacific (Hyderabad)"),
    Region("ap-southeast-3", "Asia Pacific (Jakarta)"),
    Region("ap-southeast-4", "Asia Pacific (Melbourne)"),
    Region("ap-southeast-5", "Asia Pacific (Malaysia)"),
    Region("ap-southeast-7", "Asia Pacific (Thailand)"),
    Region("cn-north-1", "China (Beijing)", "aws-cn"),
    Region("cn-northwest-1", "China (Ningxia)", "aws-cn"),
)

REGION_CODES: tuple[str, ...] = tuple(r.code for r in MWAA_REGIONS)

#: The wider area of each geography prefix: the second step of :func:`nearest_priced_region`.
AREAS: dict[str, str] = {
    "us": "americas",
    "ca": "americas",
    "mx": "americas",
    "sa": "americas",
    "eu": "europe-middle-east-africa",
    "il": "europe-middle-east-africa",
    "me": "europe-middle-east-africa",
    "af": "europe-middle-east-africa",
    "ap": "asia-pacific",
    "cn": "asia-pacific",
}

_NOT_SOURCED = (
    "no sourced list price yet: neither the AWS Price List offer file of this Region nor a page "
    "quoting its MWAA prices could be consulted (checked 2026-12-04)"
)
_CHINA = (
    "the China Regions are priced in CNY by their operators (amazonaws.cn); no such price list "
    "could be consulted (checked 2026-12-04)"
)

#: The Regions that have a file ``data/prices/<region>.json`` (a test checks the folder).
PRICE_TABLES: tuple[str, ...] = ("us-east-1", "ap-northeast-1")

#: Every other Region of :data:`MWAA_REGIONS`, each with the reason it has no price table.
NO_PRICE_TABLE: dict[str, str] = {
    r.code: (_CHINA if r.partition == "aws-cn" else _NOT_SOURCED)
    for r in MWAA_REGIONS
    if r.code not in PRICE_TABLES
}


def nearest_priced_region(region: str, priced: Iterable[str]) -> str | None:
    """The priced Region to name for ``region`` when it has no price table of its own.

    ``region`` itself if it is priced; else the first priced Region, in the order of
    :data:`MWAA_REGIONS` (then by code for one not listed there), that shares

    1. its geography prefix (``eu`` for ``eu-west-1``);
    2. else its area (:data:`AREAS`: the Americas, Europe/Middle East/Africa, Asia Pacific);
    3. else any priced Region.

    None when nothing is priced. Deterministic: the same inputs name the same Region. Its
    prices are that Region's, not ``region``'s: a reference, never a substitute."""
    candidates = sorted(set(priced), key=_rank)
    if region in candidates:
        return region
    prefix = region.split("-", 1)[0]
    area = AREAS.get(prefix)
    for matches in (
        lambda code: code.split("-", 1)[0] == prefix,
        lambda code: area is not None and AREAS.get(code.split("-", 1)[0]) == area,
        lambda code: True,
    ):
        found = [code for code in candidates if matches(code)]
        if found:
            return found[0]
    return None


def _rank(code: str) -> tuple[int, str]:
    return (REGION_CODES.index(code) if code in REGION_CODES else len(REGION_CODES), code)
