"""What a shard of the scenarios is and what it leaves for a merge: ``--shard K/N``
parsed, the name and version of its ``shard.json``, the digest of a collection.

The plugin (``harness.plugin.sharding``) writes a shard; ``harness report merge``
(``harness.report.merge``) reads shards back: both need these, so they live
below both, in the report's layer.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

MANIFEST = "shard.json"
MANIFEST_VERSION = 2


class ShardError(ValueError):
    """A --shard value that is not K/N with 1 <= K <= N."""


@dataclass(frozen=True)
class Shard:
    number: int  # 1-based, as CI job matrices count
    total: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if found is None:
            raise ShardError(f"--shard {text!r} is not K/N: give e.g. --shard 1/2 and --shard 2/2")
        number, total = int(found.group(1)), int(found.group(2))
        if total < 1 or not 1 <= number <= total:
            raise ShardError(f"--shard {text}: K must be between 1 and N (e.g. 1/{max(total, 2)})")
        return cls(number, total)

    def __str__(self) -> str:
        return f"{self.number}/{self.total}"


def collection_digest(nodeids: Any) -> str:
    """The digest of a set of test node ids: a shard's collection, or every shard's tests together."""
    return hashlib.sha256("\n".join(sorted(nodeids)).encode()).hexdigest()
