"""Baseline of `make bench`: an empty CDK app set up like app.py (built-in CloudFormation
validation off, cdk-nag's AwsSolutions checks on), synthesized by the same CLI command."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

app = cdk.App(builtin_cloud_formation_validation=False)
cdk.Stack(app, "Empty")
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
