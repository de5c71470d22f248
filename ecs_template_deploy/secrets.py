"""Which environment values must not be printed: by their name and by their value.

Secrets belong in a container definition's `secrets` (Secrets Manager or SSM
ARNs), but plain `environment` entries carry them often enough that `diff` and
`render --mask` mask what looks like one:

- by name: a word of the name (split at `_`, `-`, `.` and camelCase) is one of
  `WORDS` (`GITHUB_PAT`, `SENTRY_DSN`, `apiKey`), or the name contains one of
  `FRAGMENTS` (`DBPASSWORD`). Words, not substrings, so `PATH` or `MONKEY` are
  not secrets;
- by value: a URL with a password in it (`postgres://app:pw@db/app`), an AWS
  access key id, a JWT, a PEM private key, a token in a self-announcing format
  (`ghp_...`, `glpat-...`, `xoxb-...`, `sk_live_...`), or a long random-looking token (a
  run of at least 20 letters, digits and `+/=_-` with upper and lower case and
  digits, and more than 4.2 bits of entropy per character: hex digests, UUIDs,
  ARNs and image references stay visible, base64 and URL-safe keys do not).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
WORDS = frozenset({
    "PASSWORD", "PASSWD", "PWD", "PASS", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS",
    "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "PRIVATE", "AUTH", "AUTHORIZATION", "SIGNATURE", "SALT",
    "COOKIE", "PAT", "DSN", "CERT", "CERTIFICATE", "PIN", "OTP", "BEARER", "JWT", "WEBHOOK",
})
FRAGMENTS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATEKEY", "APIKEY", "ACCESSKEY")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
_AWS_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# Token formats that announce themselves: GitHub, GitLab, Slack, Stripe.
_KNOWN_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}"
                          r"|xox[abpors]-[A-Za-z0-9-]{10,}|[sr]k_live_[A-Za-z0-9]{16,})")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]+")
MIN_RANDOM_LENGTH = 20
MIN_ENTROPY = 4.2  # bits per character


def secret_name(name: str) -> bool:
    words = {w.upper() for w in _WORD_SPLIT.split(name) if w}
    squashed = re.sub(r"[^A-Za-z0-9]", "", name).upper()
    return bool(words & WORDS) or any(fragment in squashed for fragment in FRAGMENTS)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_looking(value: str) -> bool:
    for token in _TOKEN.findall(value):
        if (len(token) >= MIN_RANDOM_LENGTH and re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)
                and re.search(r"[0-9]", token) and _entropy(token) > MIN_ENTROPY):
            return True
    return False


def secret_value(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    return bool(_URL_WITH_PASSWORD.search(value) or _AWS_ACCESS_KEY_ID.search(value) or _JWT.search(value)
                or _PEM.search(value) or _KNOWN_TOKEN.search(value) or _random_looking(value))


def looks_secret(name: str, value: Any = None) -> bool:
    return secret_name(name) or secret_value(value)


def mask_environment(entries: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """`environment` entries with secret-looking values masked, and how many were."""
    masked, count = [], 0
    for entry in entries:
        entry = dict(entry)
        if looks_secret(entry.get("name", ""), entry.get("value")):
            entry["value"], count = MASK, count + 1
        masked.append(entry)
    return masked, count


def mask_definition(definition: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A RegisterTaskDefinition request with secret-looking environment values masked."""
    masked = dict(definition)
    total = 0
    containers = []
    for container in definition.get("containerDefinitions", []):
        container = dict(container)
        if "environment" in container:
            container["environment"], count = mask_environment(container["environment"])
            total += count
        containers.append(container)
    masked["containerDefinitions"] = containers
    return masked, total


def environment_values(definition: Mapping[str, Any]) -> int:
    """How many plain `environment` values the definition carries."""
    return sum(len(c.get("environment") or []) for c in definition.get("containerDefinitions", []))
