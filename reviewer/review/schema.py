"""The JSON Schema of the answer the model must give, per task.

A review answers ``{"findings": [...]}``; with analyzer hints, also ``"hints"`` (a verdict per hint
id); ``ask`` also ``"answer"`` (the explanation). The same schema is shown in the prompt and, for
servers that constrain output with one, sent in ``response_format``.
"""

from __future__ import annotations

from typing import Any

from reviewer.findings import findings_json_schema

_HINTS = {
    "type": "array",
    "description": "one verdict per analyzer hint id (H1, H2, ...)",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "verdict": {"type": "string", "enum": ["confirmed", "rejected"]},
            "reason": {"type": "string"},
        },
        "required": ["id", "verdict", "reason"],
    },
}


def answer_schema(*, with_answer: bool = False, with_hints: bool = False) -> dict[str, Any]:
    schema = findings_json_schema()
    props: dict[str, Any] = {}
    required = ["findings"]
    if with_answer:
        props["answer"] = {"type": "string", "description": "the explanation: what fails, where, why, how to fix it"}
        required.insert(0, "answer")
    props.update(schema["properties"])
    if with_hints:
        props["hints"] = _HINTS
        required.append("hints")
    schema["properties"] = props
    schema["required"] = required
    return schema
