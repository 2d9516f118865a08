"""The permission contract: every actor of a deployed platform, what it must and must never be
able to do, evaluated offline against the synthesized templates with a real IAM evaluator
(``scripts/iam_simulate.cjs``). Development tooling: not installed with the package."""
