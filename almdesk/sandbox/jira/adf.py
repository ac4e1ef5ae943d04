"""Atlassian Document Format in the sandbox: check what v3 clients send, turn it to text and back.

Jira Cloud's ``/rest/api/3`` takes and returns ``description`` as an ADF document; the sandbox stores
plain text and converts at the edge, like Cloud's v2 API does.
"""

from __future__ import annotations

from typing import Any

BLOCKS = {"paragraph", "heading", "bulletList", "orderedList", "listItem", "codeBlock", "blockquote", "rule",
          "panel", "table", "tableRow", "tableCell", "tableHeader", "mediaSingle", "media", "expand"}
INLINE = {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status"}


def validate(doc: Any) -> str | None:
    """None when ``doc`` is a valid ADF document, else Jira's complaint."""
    message = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return message
    if not isinstance(doc.get("content"), list):
        return message
    return None if all(_valid_node(n) for n in doc["content"]) else message


def _valid_node(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return False
    kind = node["type"]
    if kind == "text":
        return isinstance(node.get("text"), str) and node["text"] != ""
    if kind not in BLOCKS and kind not in INLINE:
        return False
    content = node.get("content", [])
    return isinstance(content, list) and all(_valid_node(n) for n in content)


def to_text(doc: Any) -> str:
    """Plain text of an ADF document: blocks separated by blank lines, hard breaks as newlines."""
    if not isinstance(doc, dict):
        return ""
    blocks = [_inline_text(n) for n in doc.get("content", []) if isinstance(n, dict)]
    return "\n\n".join(b for b in blocks if b is not None)


def _inline_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    parts = [_inline_text(n) for n in node.get("content", []) if isinstance(n, dict)]
    sep = "\n" if kind in ("bulletList", "orderedList", "table", "tableRow") else ""
    return sep.join(parts)


def from_text(text: str) -> dict[str, Any] | None:
    """An ADF document for plain text (None for empty text, as Jira returns null)."""
    if not text:
        return None
    content = []
    for block in text.split("\n\n"):
        nodes: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}
