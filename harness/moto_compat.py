"""Where moto's answers differ from AWS in ways real clients (Terraform) trip on,
the harness patches moto here, in one small documented layer.

`install()` is called by every backend that starts moto (in-process and
`harness serve`); it must be idempotent.
"""
from __future__ import annotations


def install() -> None:
    """Apply the compatibility patches (none yet; see the Terraform issue)."""
