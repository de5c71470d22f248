"""LocalStack for the backend's tests: localstack-core in host mode on a free port."""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from harness.backends.localstack_host import HostLocalStack, HostLocalStackError, localstack_python


@pytest.fixture(scope="session")
def localstack() -> Iterator[str]:
    try:
        python = localstack_python()
    except HostLocalStackError as err:
        if os.environ.get("HARNESS_REQUIRE_LOCALSTACK") == "1":  # .ci/run: it made one, so it must work
            pytest.fail(f"HARNESS_REQUIRE_LOCALSTACK=1 but {err}", pytrace=False)
        pytest.skip(f"the LocalStack tests need localstack-core: {err}")
    with HostLocalStack(python) as url:
        yield url
