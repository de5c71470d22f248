"""What must not be printed, by name and by value, wherever it sits: the one place that knows.

Secrets belong in a container definition's `secrets` (Secrets Manager or SSM
ARNs), but templates and one-off commands carry them in plain fields often
enough: `environment`, `command`, `entryPoint`, `healthCheck.command`,
`dockerLabels`, log driver options, volume driver options, tags, `run
--command`. Every command that prints any of those passes it through `mask()`,
which walks any JSON-like value (a RegisterTaskDefinition request, a settings
document, a command line) and masks every string that holds something secret:

- by name: the value of an environment entry, a docker label, a log option, a
  JSON key, a `name=value` or `name: value` pair inside a string (`PGPASSWORD=`,
  JDBC's `?password=`, ODBC's `Pwd=`, `-Dspring.datasource.password=`), and the
  word after a flag (`--password X`, `--api-key=X`), when a word of the name
  (split at `_`, `-`, `.` and camelCase) is one of `WORDS` (`DB_PASSWORD`,
  `apiKey`, `PW`, `--token`) or contains one of `FRAGMENTS` (`DBPASSWORD`), unless
  its last word says it describes a secret instead of holding one (`TOKEN_TTL`,
  `SECRET_ARN`, `--password-file`). Words, not substrings: `PATH`, `MONKEY` are
  not secrets. Flags that take passwords by convention: `-p VALUE` (not a port
  or a path), mysql's `-pVALUE`, redis-cli's `-a VALUE`, curl's `-u user:VALUE`;
- by value, anywhere inside a string: a URL's userinfo password
  (`postgres://admin:pw@db`), Oracle's `user/password@`, a PEM private key
  block (multi-line or with `\\n` escapes), `Bearer`/`Basic` credentials, a
  password hash (`$apr1$...`, `$2y$...`), an AWS access key id, a JWT, a token in
  a self-announcing format (`TOKEN_FORMATS`: GitHub, GitLab, Slack, Stripe, npm,
  PyPI, Twilio, SendGrid, Google, OpenAI, Anthropic, Vault, ...), a run of 32 or
  more hex digits (an API key) unless its context says digest or id
  (`sha256:...`, after `/` as in ARNs and paths, a name like `COMMIT` or
  `REVISION`), and a long random-looking token (at least 20 letters, digits and
  `+/=_-` with upper and lower case and digits, over 4.2 bits of entropy per
  character: base64 and URL-safe keys).

Only the secret part becomes `***` where the rest is useful
(`postgres://admin:***@db/app`, `--password ***`), the whole value otherwise.
What stays visible: ARNs (a `secrets` `valueFrom` names where a secret lives,
not the secret), `$VARIABLE` references, image references (a tag may be a
commit hash), digests, UUIDs, hostnames, paths, versions. Each masked value is
reported as `Masked(path, why)`, with paths as `diff` prints them
(`containerDefinitions[web].command[2]`), so every output that masked something
can say where and why (`note()` is the one line that says it).
"""
from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MASK = "***"

WORDS = frozenset({
    "PASSWORD", "PASSWORDS", "PASSWD", "PWD", "PW", "PASS", "PASSPHRASE", "PASSCODE", "SECRET", "SECRETS", "TOKEN",
    "TOKENS", "KEY", "KEYS", "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "PRIVATE", "AUTH", "AUTHORIZATION",
    "SIGNATURE", "SIG", "HMAC", "SALT", "COOKIE", "PAT", "DSN", "CERT", "CERTIFICATE", "PIN", "OTP", "BEARER", "JWT",
    "WEBHOOK", "MNEMONIC",
    # keytool's, redis's and friends' password options, written as one word
    "STOREPASS", "KEYPASS", "SRCSTOREPASS", "DESTSTOREPASS", "SRCKEYPASS", "DESTKEYPASS", "REQUIREPASS", "MASTERAUTH",
})
FRAGMENTS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATEKEY", "APIKEY", "ACCESSKEY")
# A name ending in one of these describes a secret (where it is, how long it lives, how
# it is checked) rather than holding one: TOKEN_TTL, SECRET_ARN, DB_PASSWORD_FILE.
DESCRIBING = frozenset({
    "ID", "IDS", "ARN", "ARNS", "NAME", "NAMES", "FILE", "FILES", "PATH", "PATHS", "DIR", "LOCATION", "PARAMETER",
    "PARAM", "ALIAS", "LENGTH", "LEN", "SIZE", "BITS", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "EXPIRATION", "LIFETIME",
    "TYPE", "ALGORITHM", "ALG", "ENABLED", "DISABLED", "ENABLE", "DISABLE", "REQUIRED", "COUNT", "MIN", "MAX", "PREFIX",
    "FIELD", "FORMAT", "ISSUER", "AUDIENCE", "REALM", "PROVIDER", "MODE", "METHOD", "SCOPE", "SCOPES", "POLICY",
    "ROTATION", "REGION", "USER", "USERNAME", "ENDPOINT", "HOST", "PORT", "URL", "URI", "VERSION", "STORE", "SERVICE",
})
ALWAYS_SECRET = frozenset({"WEBHOOK", "DSN"})  # the URL is the secret: SLACK_WEBHOOK_URL
# Names under which a run of hex digits is a digest or an id, not a key.
DIGEST_WORDS = frozenset({"SHA", "SHA1", "SHA256", "SHA512", "MD5", "DIGEST", "COMMIT", "REV", "REVISION", "VERSION",
                          "ETAG", "HASH", "CHECKSUM", "ID", "UUID", "BUILD", "GIT", "RELEASE", "IMAGE", "TAG"})

# Tokens whose format says what they are. Each masked whole.
TOKEN_FORMATS: tuple[tuple[str, str], ...] = (
    ("GitHub token", r"gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255}"),
    ("GitLab token", r"gl(?:pat|dt|ptt|rt|cbt|oas|soat|ft|imt)-[A-Za-z0-9_-]{20,}"),
    ("Slack token", r"xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}"),
    ("Slack webhook", r"(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
    ("Discord webhook", r"(?<=/api/webhooks/)\d+/[A-Za-z0-9_-]+"),
    ("Stripe key", r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}"),
    ("npm token", r"npm_[A-Za-z0-9]{36}"),
    ("PyPI token", r"pypi-AgE[A-Za-z0-9_-]{40,}"),
    ("Twilio key", r"SK[0-9a-fA-F]{32}"),
    ("SendGrid key", r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"),
    ("Google API key", r"AIza[0-9A-Za-z_-]{35}"),
    ("Anthropic key", r"sk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}"),
    ("OpenAI key", r"sk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}"),
    ("Hugging Face token", r"hf_[A-Za-z0-9]{30,}"),
    ("Shopify token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("Mailgun key", r"key-[0-9a-f]{32}"),
    ("DigitalOcean token", r"do[opr]_v1_[a-f0-9]{64}"),
    ("Databricks token", r"dapi[a-f0-9]{32}"),
    ("Vault token", r"hv[sbr]\.[A-Za-z0-9_-]{20,}"),
    ("Terraform Cloud token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}"),
    ("Doppler token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}"),
    ("Postman key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
    ("Atlassian token", r"ATATT3[A-Za-z0-9_=-]{50,}"),
    ("Grafana token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}"),
    ("Sentry token", r"sntry[su]_[A-Za-z0-9+/=_-]{40,}"),
    ("Linear key", r"lin_api_[A-Za-z0-9]{40}"),
    ("New Relic key", r"NRAK-[A-Z0-9]{27}"),
    ("Telegram bot token", r"\d{8,10}:AA[A-Za-z0-9_-]{33}"),
    ("age secret key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
    ("AWS access key id", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ("JWT", r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
)
_TOKEN_FORMAT = re.compile("|".join(f"(?P<f{i}>(?<![A-Za-z0-9_])(?:{pattern}))"
                                    for i, (_, pattern) in enumerate(TOKEN_FORMATS)))

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_PEM = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
                  r".*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.DOTALL)
# scheme://user:password@host: the password runs to the last @ before the host (passwords hold @ too)
_URL_USERINFO = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{0,30}://(?P<user>[^\s/?#@:'\"]*)(?::(?P<password>[^\s/?#'\"]*))?"
                           r"@(?=[^\s@/?#'\"]*(?:[/?#\s'\"]|$))")
_ORACLE = re.compile(r"(?i)jdbc:oracle:[a-z]+:[^/@\s:]+/(?P<password>[^@\s]+)@")
_SCHEME = re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<value>[A-Za-z0-9._~+/=-]{8,})")
_HASHED = re.compile(r"\$(?:2[abxy]?|apr1|1|5|6|y|argon2(?:id|i|d))\$[^\s'\"]{8,}")
# name=value anywhere (zero-width, so `o=password=x` finds both); where the value ends is found
# by `_value_end` for secret names only, which keeps a long run of `a=a=a=` linear
_ASSIGNMENT = re.compile(r"(?<![\w.])(?=(?P<name>[A-Za-z_][\w.-]*)(?P<sign>[ \t]?=[ \t]?)[^\s;&,])")
_UNQUOTED_END = re.compile(r"[\s;&,'\"]")
_CLOSING = {'"': '"', "'": "'", "{": "}"}
_JSON_PAIR = re.compile(r"""(?P<q>["'])(?P<name>[A-Za-z_][\w.-]*)(?P=q)\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}\]'"]+)""")
_HEADER = re.compile(r"(?<![\w.])(?P<name>[A-Za-z_][\w.-]*):[ \t]+(?P<value>[^\s'\";,]+)")
_HEX = re.compile(r"(?<![A-Za-z0-9])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_HEX_CONTEXT = re.compile(r"(?i)(?:(?:sha\d*|md5|digest|commit|rev|revision|version|etag|hash|checksum|id|uuid|build)"
                          r"[\s:=@\"'_-]*|/)$")
_RANDOM = re.compile(r"[A-Za-z0-9+/_-]+=*")  # base64 pads with = at the end only: `--token=` stays apart
MIN_RANDOM_LENGTH = 20
MIN_ENTROPY = 4.2  # bits per character
_FLAG = re.compile(r"^--?(?P<name>[A-Za-z][\w.-]*)$")
_NOT_A_PASSWORD_AFTER_P = re.compile(r"^(?:\d+(?:[:/-]\d+)*(?:/(?:tcp|udp))?|[/.~].*)$")  # -p 8080:80, mkdir -p /data
_MYSQL = frozenset({"mysql", "mariadb", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mysqlsh"})
# Values that are not secrets whatever their name: where a secret lives, a variable holding it, a switch.
# (`$ecret1` is a password, `$DB_PASSWORD` a variable: upper case only.)
_ARN = re.compile(r"^arn:[\w-]+:\S+$")
_REFERENCE = re.compile(r"^(?:arn:[\w-]+:\S+|\$\{[A-Z_][A-Z0-9_]*\}|\$[A-Z_][A-Z0-9_]+|\{\{resolve:[^}]*\}\}"
                        r"|(?i:true|false|yes|no|on|off|none|null))$")

# Fields by how they are read: identifiers (names, tag keys) and image references (a tag may
# be a commit hash) are checked only for self-announcing secrets, never by their field's
# name; references (an ARN, an SSM parameter) are not secrets, unless what they hold is a
# secret's value put there by mistake.
_IDENTIFIERS = frozenset({"name", "key", "containerName", "sourceVolume", "family", "namespace"})
_REFERENCES = frozenset({"valueFrom", "credentialsParameter"})
_IMAGES = frozenset({"image"})
# Lists whose entries paths name by a field (as diff does), and whose `value` is the entry.
KEYED = {"containerDefinitions": "name", "containers": "name", "environment": "name", "tags": "key"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Masked:
    """Where a value was masked and why (`after --password`, `URL password`, ...)."""

    path: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "why": self.why}

    def __str__(self) -> str:
        return f"{self.path} ({self.why})"


def field_path(path: str, key: str) -> str:
    """`path.key`, or `path[key]` for a key that is not a plain identifier (`dockerLabels[com.example.ci]`)."""
    if not _IDENTIFIER.match(key):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def merged(masked: Iterable[Masked]) -> list[Masked]:
    """One per path, with every reason given for it (old and new of a diff may both say one)."""
    reasons: dict[str, list[str]] = {}
    for mark in masked:
        whys = reasons.setdefault(mark.path, [])
        whys.extend(why for why in mark.why.split(", ") if why not in whys)
    return [Masked(path, ", ".join(whys)) for path, whys in reasons.items()]


def note(masked: Sequence[Masked]) -> str:
    """The one line an output that masked something says it with."""
    return (f"masked {len(masked)} value(s) that look secret, shown as {MASK}: "
            + "; ".join(str(m) for m in masked))


# -- names ------------------------------------------------------------------------------

def _words(name: str) -> list[str]:
    return [w.upper() for w in _WORD_SPLIT.split(name) if w]


def secret_name(name: str) -> bool:
    """Whether a value under this name (an environment entry, a label, a flag) is a secret."""
    words = _words(name)
    if not words:
        return False
    squashed = "".join(words)
    if not (set(words) & WORDS or any(fragment in squashed for fragment in FRAGMENTS)):
        return False
    return bool(set(words) & ALWAYS_SECRET) or words[-1] not in DESCRIBING


def _digest_name(name: str) -> bool:
    return bool(set(_words(name)) & DIGEST_WORDS)


# -- values -----------------------------------------------------------------------------

def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_looking(token: str) -> bool:
    return (len(token) >= MIN_RANDOM_LENGTH and re.search(r"[a-z]", token) is not None
            and re.search(r"[A-Z]", token) is not None and re.search(r"[0-9]", token) is not None
            and _entropy(token) > MIN_ENTROPY)


def _reference(value: str) -> bool:
    return not value.strip() or bool(_REFERENCE.match(value.strip()))


def _inside_quotes(text: str, start: int, end: int) -> tuple[int, int]:
    if end - start >= 2 and text[start] in "\"'{" and text[end - 1] == {"{": "}"}.get(text[start], text[start]):
        return start + 1, end - 1
    if text[start:start + 1] in ("\"", "'"):  # an unclosed quote: everything after it
        return start + 1, end
    return start, end


def _tokens(text: str) -> list[tuple[int, int]]:
    """Shell-like words of `text` as spans: quotes keep spaces inside one word."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, quote = i, None
        while i < n and (quote or not text[i].isspace()):
            if quote:
                quote = None if text[i] == quote else quote
            elif text[i] in "\"'":
                quote = text[i]
            i += 1
        spans.append((start, i))
    return spans


def _programs(words: Iterable[str]) -> set[str]:
    return {word.rsplit("/", 1)[-1].lower() for word in words}


def _after_flag(flag: str, value: str, programs: set[str]) -> tuple[int, str] | None:
    """Where the secret starts in `value`, the word after `flag`, and why; None if it holds none."""
    if not flag.startswith("-") or not value or value.startswith("-") or _reference(value):
        return None
    if flag in ("-u", "--user", "-U") and ":" in value:  # curl -u user:password (not docker's -u uid:gid)
        after = value.index(":") + 1
        return None if value[after:].isdigit() else (after, f"password after {flag}")
    if flag == "-p":
        return None if _NOT_A_PASSWORD_AFTER_P.match(value) else (0, "after -p")
    if flag == "-a" and "redis-cli" in programs:
        return 0, "after -a"
    found = _FLAG.match(flag)
    if found and len(found.group("name")) > 1 and secret_name(found.group("name")):
        return 0, f"after {flag}"
    return None


def _attached(word: str, programs: set[str]) -> tuple[int, str] | None:
    """mysql's -pPASSWORD: the password glued to its flag."""
    if programs & _MYSQL and word.startswith("-p") and len(word) > 2 and not word.startswith("-p-"):
        return 2, "after -p"
    return None


Span = tuple[int, int, str]
_GUESSES = ("hex key", "random-looking token")


def _pairs(text: str, programs: set[str]) -> list[Span]:
    """Secrets a name gives away inside a string: `--flag value`, `name=value`, `"name": value`, `Name: value`."""
    spans: list[Span] = []
    words = _tokens(text)
    programs = programs | _programs(text[s:e] for s, e in words)
    for (ps, pe), (s, e) in itertools.pairwise(words):
        start, end = _inside_quotes(text, s, e)
        found = _after_flag(text[ps:pe], text[start:end], programs)
        if found:
            spans.append((start + found[0], end, found[1]))
    for s, e in words:
        found = _attached(text[s:e], programs)
        if found:
            spans.append((s + found[0], e, found[1]))
    value_end = _ValueEnd(text)
    named = [(m.group("name"), "=", m.end("sign"), value_end(m.end("sign"))) for m in _ASSIGNMENT.finditer(text)
             if secret_name(m.group("name"))]
    named += [(m.group("name"), ":", m.start("value"), m.end("value")) for pattern in (_JSON_PAIR, _HEADER)
              for m in pattern.finditer(text) if secret_name(m.group("name"))]
    for name, sign, start, end in named:
        value = text[start:end]
        if _reference(value.strip("\"'{}")) or value.lower() in ("bearer", "basic"):  # Bearer x: _SCHEME's
            continue
        start, end = _inside_quotes(text, start, end)
        if end > start:
            spans.append((start, end, f"after {name}{sign}"))
    return spans


class _ValueEnd:
    """Where a `name=value` value starting at `start` ends: its closing quote or brace (ODBC's
    `Pwd={p;w}`), else the first space, `;`, `&`, `,` or quote. Asked with growing starts, it
    reuses the delimiter it found last, so `password=password=...` stays linear."""

    def __init__(self, text: str) -> None:
        self.text, self.stop = text, -1

    def __call__(self, start: int) -> int:
        closing = _CLOSING.get(self.text[start])
        if closing:
            end = self.text.find(closing, start + 1)
            return len(self.text) if end < 0 else end + 1
        if self.stop < start:
            delimiter = _UNQUOTED_END.search(self.text, start)
            self.stop = delimiter.start() if delimiter else len(self.text)
        return self.stop


def _formats(text: str, strong_only: bool, name: str) -> list[Span]:
    """Secrets a value gives away by its form, whatever its name."""
    # multi-line, or on one line with \\n escapes: the block runs to its END line (or the end of the text)
    spans: list[Span] = [(m.start(), m.end(), "PEM private key") for m in _PEM.finditer(text)]
    for match in _URL_USERINFO.finditer(text):
        if match.group("password"):
            spans.append((match.start("password"), match.end("password"), "URL password"))
        elif len(match.group("user")) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", match.group("user")):
            spans.append((match.start("user"), match.end("user"), "URL token"))
    spans += [(m.start("password"), m.end("password"), "password in Oracle URL") for m in _ORACLE.finditer(text)]
    spans += [(m.start("value"), m.end("value"), "credentials after Bearer/Basic") for m in _SCHEME.finditer(text)]
    spans += [(m.start(), m.end(), "password hash") for m in _HASHED.finditer(text)]
    for match in _TOKEN_FORMAT.finditer(text):
        group = match.lastgroup
        assert group is not None  # every alternative of _TOKEN_FORMAT is a named group, f<index>
        spans.append((match.start(), match.end(), TOKEN_FORMATS[int(group[1:])][0]))
    if strong_only:
        return spans
    if not _digest_name(name):
        for match in _HEX.finditer(text):
            if not _HEX_CONTEXT.search(text[max(0, match.start() - 24):match.start()]):
                spans.append((match.start(), match.end(), "hex key"))
    spans += [(m.start(), m.end(), "random-looking token") for m in _RANDOM.finditer(text) if _random_looking(m.group())]
    return spans


def _replace(text: str, spans: list[Span]) -> tuple[str, list[str]]:
    """`text` with the spans (merged where they touch) replaced by MASK, and the reasons. A guess
    that overlaps what a certain rule found gives way to it: the rule knows where the secret ends
    (`hooks.slack.com/***`, not `hooks.slack.***`)."""
    certain = [(start, end) for start, end, why in spans if why not in _GUESSES]
    spans = [(start, end, why) for start, end, why in spans
             if why not in _GUESSES or not any(start < e and s < end for s, e in certain)]
    merged: list[list[Any]] = []
    for start, end, why in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].append(why)
        else:
            merged.append([start, end, [why]])
    parts, last = [], 0
    for start, end, _ in merged:
        parts += [text[last:start], MASK]
        last = end
    parts.append(text[last:])
    if merged and not "".join(parts).replace(MASK, "").replace("\\n", "").strip():  # nothing useful left: one mask
        parts = [MASK]
    return "".join(parts), list(dict.fromkeys(why for _, _, whys in merged for why in whys))


def mask_text(text: str, name: str = "", *, strong_only: bool = False,
              programs: frozenset[str] | set[str] = frozenset()) -> tuple[str, list[str]]:
    """`text` with what looks secret masked (the whole of it under a secret name), and why."""
    if not text or _ARN.match(text):  # an ARN names a resource (a secret's too): never a secret itself
        return text, []
    if name and secret_name(name) and not _reference(text):
        return MASK, ["secret-looking name"]
    spans = _formats(text, strong_only, name)
    if not strong_only:
        spans += _pairs(text, set(programs))
    return _replace(text, spans)


def secret_value(value: Any) -> bool:
    """Whether a value holds something secret, whatever its name."""
    return isinstance(value, str) and bool(mask_text(value)[1])


# -- structures -------------------------------------------------------------------------

class _Walk:
    """One walk over a JSON-like value: the masked copy it returns, and `found`: path -> why."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def mark(self, path: str, reasons: Sequence[str]) -> None:
        whys = self.found.setdefault(path, [])
        whys.extend(r for r in reasons if r not in whys)

    def value(self, value: Any, path: str, name: str, field: str) -> Any:
        if isinstance(value, Mapping):
            return self.mapping(value, path)
        if isinstance(value, (list, tuple)):
            if all(isinstance(item, (str, int, float)) for item in value):
                return self.words(list(value), path, name)
            return [self.value(item, self.entry_path(path, field, item, index), field, field)
                    for index, item in enumerate(value)]
        return self.scalar(value, path, name, field)

    @staticmethod
    def entry_path(path: str, field: str, item: Any, index: int) -> str:
        label = isinstance(item, Mapping) and KEYED.get(field) and item.get(KEYED[field])
        return f"{path}[{label}]" if isinstance(label, str) else f"{path}[{index}]"

    def mapping(self, value: Mapping[str, Any], path: str) -> dict[str, Any]:
        # {"name": N, "value": V} (environment, tags, proxy properties): V is read under N
        label = value.get("name", value.get("key")) if "value" in value else None
        out = {}
        for key, item in value.items():
            key = str(key)
            if key == "value" and isinstance(label, str):
                child = path if path.endswith(f"[{label}]") else field_path(path, key)
                out[key] = self.value(item, child, label, key)
            else:
                out[key] = self.value(item, field_path(path, key), key, key)
        return out

    def scalar(self, value: Any, path: str, name: str, field: str) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if not isinstance(value, str):  # a number under a secret name (a PIN) is a secret too
            if field not in _REFERENCES and field not in _IDENTIFIERS and secret_name(name):
                self.mark(path, ["secret-looking name"])
                return MASK
            return value
        if field in _REFERENCES:
            if _reference(value):
                return value
            masked, reasons = mask_text(value)
        elif field in _IDENTIFIERS:
            masked, reasons = mask_text(value, strong_only=True)
        else:
            masked, reasons = mask_text(value, name, strong_only=field in _IMAGES)
        if reasons:
            self.mark(path, reasons)
        return masked

    def words(self, words: list[Any], path: str, name: str) -> list[Any]:
        """A command list: a word is secret by itself, or by the flag before it."""
        programs = _programs(str(word) for word in words)
        out: list[Any] = []
        for index, word in enumerate(words):
            child = f"{path}[{index}]"
            if not isinstance(word, str):
                out.append(self.scalar(word, child, name, ""))
                continue
            previous = words[index - 1] if index and isinstance(words[index - 1], str) else ""
            found = _after_flag(previous, word, programs) or _attached(word, programs)
            if name and secret_name(name) and not _reference(word):
                masked, reasons = MASK, ["secret-looking name"]
            elif found:
                masked, reasons = word[:found[0]] + MASK, [found[1]]
            else:
                flag = _FLAG.match(previous)  # its name says whether hex after it is a digest: --revision <sha>
                masked, reasons = mask_text(word, flag.group("name") if flag else "", programs=programs)
            if reasons:
                self.mark(child, reasons)
            out.append(masked)
        return out


def mask(value: Any, path: str = "", name: str = "") -> tuple[Any, list[Masked]]:
    """`value` (any JSON-like value) with every secret-looking string masked, and where and why.

    `path` names `value` in the paths reported; `name` is the field it sits under
    (`environment` for a list of name/value entries, `command` for a command list).
    The input is not changed.
    """
    walk = _Walk()
    masked = walk.value(value, path, name, name)
    return masked, [Masked(p, ", ".join(whys)) for p, whys in walk.found.items()]


def mask_definition(definition: Mapping[str, Any]) -> tuple[dict[str, Any], list[Masked]]:
    """A RegisterTaskDefinition request with every secret-looking value masked, and where and why."""
    return mask(definition)


def environment_values(definition: Mapping[str, Any]) -> int:
    """How many plain `environment` values the definition carries."""
    return sum(len(c.get("environment") or []) for c in definition.get("containerDefinitions", []))
