"""Offline change review: what deploying the working tree does, profile by profile, compared
with a git ref (``make review BASE=<ref>``, ``python -m tools.review``, ``mwaa-ops review``).

- :mod:`tools.review.engine`: the CDK's diff engine (``scripts/cfn_diff.cjs``) and its results;
- :mod:`tools.review.masking`: secret values kept out of the report;
- :mod:`tools.review.verdicts`: per MWAA environment a verdict with advice, per profile the cost;
- :mod:`tools.review.render`: Markdown and JSON;
- :mod:`tools.review.synth`: BASE in a git worktree, synthesis, cloud assemblies;
- :mod:`tools.review.cli`: the command line.

A developer tool of this repository: not part of the wheel.
"""
