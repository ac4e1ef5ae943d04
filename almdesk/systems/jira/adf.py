"""Plain text to Atlassian Document Format, for descriptions sent to Jira Cloud's REST v3."""

from __future__ import annotations

from typing import Any


def to_adf(text: str) -> dict[str, Any]:
    """Paragraphs at blank lines, hard breaks at single newlines; empty text gives an empty document."""
    content: list[dict[str, Any]] = []
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    for block in (b for b in normalized.split("\n\n") if b.strip("\n")):
        nodes: list[dict[str, Any]] = []
        for i, line in enumerate(block.strip("\n").split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def from_adf(doc: Any) -> str:
    """The text of an ADF document (paragraphs joined by blank lines)."""
    if not isinstance(doc, dict):
        return str(doc or "")

    def inline(node: dict[str, Any]) -> str:
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        return "".join(inline(n) for n in node.get("content", []) if isinstance(n, dict))

    return "\n\n".join(inline(n) for n in doc.get("content", []) if isinstance(n, dict))
