"""The rules of Amazon MWAA and of this platform, as plain Python: no CDK, no AWS call.

The bottom layer of the package. The profile model (``platform_config``), the constructs
(``mwaa_constructs``), the CDK app and the operating tool (``mwaa_ops``) all read their rules
from here, so that each rule has one home and a tool that only needs a rule does not start the
jsii runtime of aws-cdk-lib:

- :mod:`mwaa_rules.versions`: the Airflow versions MWAA offers, retired versions, upgrade paths;
- :mod:`mwaa_rules.rules`: what CloudFormation does not check (names, classes and their sizing,
  log levels, access modes, maintenance windows) and the defaults of an environment;
- :mod:`mwaa_rules.requirements`: a requirements file checked against the MWAA image's
  constraints (shipped in ``data/constraints/``);
- :mod:`mwaa_rules.endpoints`: the VPC interface endpoints each network mode creates;
- :mod:`mwaa_rules.alarms`: the recommended alarms of an environment and their thresholds;
- :mod:`mwaa_rules.compliance`: the cdk-nag compliance packs a profile may select;
- :mod:`mwaa_rules.cost`: the monthly cost model (price tables in ``data/prices/``).

``pyproject.toml`` (``[tool.importlinter]``) keeps it free of aws_cdk, constructs, cdk_nag and
boto3, and of every other package of this repository.
"""
