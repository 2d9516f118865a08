"""Secret values kept out of the review: a pull-request comment is read by more people than the
account's secrets are meant for, and a job summary stays around.

Three rules, applied to every value the review prints (property changes and outputs):

- a value whose property name or path suggests a secret (``MasterUserPassword``,
  ``Environment.Variables.API_TOKEN``, ``AirflowConfigurationOptions.webserver.secret_key``)
  is shown as ``***`` whole;
- a CloudFormation dynamic reference to a secret, ``{{resolve:secretsmanager:...}}`` or
  ``{{resolve:ssm-secure:...}}``, is shown as ``***`` wherever it stands in a value (the
  reference names the secret and, with a JSON key, which field of it); plain
  ``{{resolve:ssm:...}}`` parameters are not secrets and stay (dynamic references:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html);
- the password of a URL with credentials (``postgresql://user:pass@host``) becomes ``***``.

Names that only point at a secret (``SecretArn``, ``SecretId``, ``SecretName``, the secrets
backend's ``secrets.backend_kwargs`` prefixes, ``SecretsManagerSecretId``) are not masked: they
say which secret is used, which a reviewer needs to see; nor is a custom resource's
``ServiceToken`` (the handler's ARN).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MASK = "***"

# Matched against a key with everything but letters and digits removed, in lower case.
_SECRET_KEY = re.compile(
    r"password|passwd|passphrase|pass$|pwd|privatekey|apikey|accesskey|(?<!service)token|credential"
    r"|connectionstring"
    r"|secret(?!(?:s?arn|s?id|s?name|s?prefix|s?backend|s?manager|s?rotation|s?kmskey|s?policy))"
)
_DYNAMIC_SECRET = re.compile(r"\{\{resolve:(?:secretsmanager|ssm-secure):[^}]*\}\}")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    """Whether a property or map key names a secret value (not a reference to one)."""
    return bool(_SECRET_KEY.search(re.sub(r"[^a-z0-9]", "", key.lower())))


def mask(path: Sequence[str | int], text: str) -> str:
    """``text`` (a value at ``path``: property name first, then keys and indexes) as the review
    may print it."""
    if any(isinstance(part, str) and is_secret_key(part) for part in path):
        return MASK
    text = _DYNAMIC_SECRET.sub(MASK, text)
    return _URL_PASSWORD.sub(rf"\g<scheme>{MASK}@", text)
