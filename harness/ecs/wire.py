"""The simulator's ECS answers put on the wire without moto's serializer.

The simulator describes services, tasks and deployments as plain dicts already
keyed as ECS keys them. moto's serializer is general: for every member of every
shape it builds a context and tries up to six aliases against the object
(`AttributePicker`), which made DescribeServices cost 2.7 ms of serializing per
call and the serializer a third of a scenario's time, since a rollout watcher
describes the service every poll. `WireResult` walks the same botocore output
shape over the dicts and gives the same JSON: members in the shape's order,
None left out, timestamps as epoch seconds truncated to milliseconds, integers
and floats coerced as moto does. Whatever is not a plain dict where the shape
wants a structure goes to moto's serializer, whole.

`CHECK` (set by the simulator tests' conftest) serializes every answer both
ways and raises `WireMismatch` where they differ.
"""
from __future__ import annotations

import base64
import calendar
import json
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from moto import settings
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult

CHECK = False


class WireMismatch(AssertionError):
    """The fast path and moto's serializer disagreed on an answer."""


class _NotPlain(Exception):
    """A value the walk does not take (an object, not a dict): moto serializes the answer."""


class WireResult(ActionResult):
    """An owned action's answer, serialized by walking its output shape.

    ``hidden``: (structure shape name, member) pairs left out, as moto's
    ``_exclude_from_response`` leaves tags out unless ``include=["TAGS"]``."""

    def __init__(self, result: dict[str, Any], hidden: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(result)
        self.hidden = frozenset(hidden)

    def execute_result(self, context: Any) -> TYPE_RESPONSE:
        output = context.operation_model.output_shape
        try:
            body = _walk(self.result, output, self.hidden) if output is not None else {}
        except _NotPlain:
            return super().execute_result(context)
        serializer = context.serializer_class(operation_model=context.operation_model,
                                              pretty_print=settings.PRETTIFY_RESPONSES)
        answer = serializer._create_default_response()
        answer["body"] = json.dumps(body, indent=4 if settings.PRETTIFY_RESPONSES else None)
        answer["headers"]["Content-Type"] = serializer._get_protocol_specific_content_type()
        if CHECK:
            moto_status, _, moto_body = super().execute_result(context)
            if (moto_status, json.loads(moto_body)) != (answer["status_code"], body):
                shown = moto_body.decode() if isinstance(moto_body, bytes) else moto_body
                raise WireMismatch(f"{context.operation_model.name}: moto serializes {shown}, "
                                   f"the fast path {answer['body']}")
        return answer["status_code"], answer["headers"], answer["body"]


def _walk(value: Any, shape: Shape, hidden: frozenset[tuple[str, str]]) -> Any:
    kind = shape.type_name
    if isinstance(shape, StructureShape):  # type_name "structure": botocore's class for it
        if shape.is_document_type:
            return value
        if not isinstance(value, dict):
            raise _NotPlain(shape.name)
        out = {}
        for key, member in shape.members.items():
            item = value.get(key)
            if item is None or (shape.name, key) in hidden:
                continue
            out[member.serialization.get("name", key)] = _walk(item, member, hidden)
        return out
    if isinstance(shape, ListShape):  # "list"
        # moto keeps a None item as it is (its structure walk writes nothing for it)
        return [None if item is None else _walk(item, shape.member, hidden) for item in value]
    if isinstance(shape, MapShape):  # "map"
        return {key: _walk(item, shape.value, hidden) for key, item in value.items()}
    if kind == "timestamp":
        return _epoch(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "blob":
        return base64.b64encode(value.encode() if isinstance(value, str) else value).strip().decode()
    return value


def _epoch(value: Any) -> int | float:
    """Epoch seconds, sub-millisecond digits cut (the Smithy rule moto follows)."""
    if not isinstance(value, datetime):  # epoch numbers and strings: moto parses them
        raise _NotPlain(f"timestamp {value!r}")
    seconds = calendar.timegm(value.timetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
