"""``python -m platform_config.generated [--check] [--root PATH]``: the files generated from the
profile schema (:mod:`platform_config.schema`) and the add-ons' manifests of a repository:

- ``schemas/profile.schema.json``: the JSON Schema of one profile (a profile kept in a file of its
  own names it with ``"$schema"``);
- ``schemas/cdk.schema.json``: the JSON Schema of ``cdk.json``, its ``context.profiles`` checked
  against the profile schema (point an editor at it for ``cdk.json``);
- the configuration table of ``README.md``, between its ``configuration:begin`` and
  ``configuration:end`` markers.

Without ``--check`` it rewrites the files that are not current; with it, it writes nothing and
exits 1 naming each file that is not (``tests/config/test_schema.py`` runs it in ``make test``).
Adding, changing or removing a setting or an add-on means running it again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from platform_config.addons import DEFAULT_ROOT
from platform_config.profile import addon_manifests
from platform_config.schema import (
    CDK_SCHEMA,
    PROFILE_SCHEMA,
    README,
    SCHEMA_FOLDER,
    cdk_schema,
    configuration_table,
    profile_schema,
    with_table,
)


def _json_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generated(root: Path = DEFAULT_ROOT) -> dict[Path, str]:
    """Every file generated from the declarations and the add-ons of ``root``: path -> content."""
    manifests = addon_manifests(root)
    folder = root / SCHEMA_FOLDER
    readme = root / README
    return {
        folder / PROFILE_SCHEMA: _json_text(profile_schema(manifests)),
        folder / CDK_SCHEMA: _json_text(cdk_schema()),
        readme: with_table(readme.read_text(encoding="utf-8"), configuration_table(manifests)),
    }


def stale(root: Path = DEFAULT_ROOT) -> list[Path]:
    """The generated files of ``root`` whose committed content is not current."""
    return [
        path
        for path, text in generated(root).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_config.generated",
        description="Write the profile JSON Schemas (schemas/) and the README's configuration table from "
        "platform_config/schema.py and the add-ons' manifests.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is not current")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.root)
        for path in outdated:
            shown = path.relative_to(args.root).as_posix()
            print(f"error: {shown} is not current: run python -m platform_config.generated", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in generated(args.root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(args.root).as_posix()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
