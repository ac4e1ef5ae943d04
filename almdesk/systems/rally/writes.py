"""What almdesk writes into Rally items: HTML descriptions, names within Rally's limits, priorities,
and the browser URL of an item.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from almdesk.errors import ConfigError
from almdesk.systems.rally.fields import DEFAULT_PRIORITY_MAP, CardType

NAME_LIMIT = 256  # Rally's Name is a 256-character string
DESCRIPTION_LIMIT = 30000  # sdetools caps Rally descriptions at 30000 characters (Rally's field holds 32k)
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def item_name(title: str) -> str:
    """A title cut to Rally's limit; the start (with the task id) is what lookups match, so it is kept."""
    title = " ".join(title.split())
    return title if len(title) <= NAME_LIMIT else title[:NAME_LIMIT - 1] + "…"


def description_html(text: str) -> str:
    """Plain text as Rally's rich-text HTML: escaped, paragraphs and line breaks kept, capped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = "".join("<p>" + html.escape(p.strip()).replace("\n", "<br />") + "</p>" for p in paragraphs)
    if len(out) > DESCRIPTION_LIMIT:
        out = out[:DESCRIPTION_LIMIT - 40].rsplit("<", 1)[0] + "<p>… (truncated)</p>"
    return out


def priority_map(params: dict[str, Any]) -> dict[int, str]:
    """Priority 1–10 → Rally Defect Priority, from ``alm_priority_map`` JSON ranges or Rally's default."""
    raw = str(params.get("alm_priority_map") or "").strip()
    ranges: dict[str, Any] = DEFAULT_PRIORITY_MAP
    if raw:
        try:
            loaded = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"Priority map is not valid JSON: {exc}.",
                              'Write it like {"1-3":"Low","4-6":"Normal","7-10":"High Attention"}.',
                              field="alm_priority_map") from None
        if not isinstance(loaded, dict):
            raise ConfigError("Priority map must be a JSON object of ranges.",
                              'Write it like {"1-3":"Low","4-6":"Normal","7-10":"High Attention"}.',
                              field="alm_priority_map")
        ranges = loaded
    out: dict[int, str] = {}
    for key, value in ranges.items():
        match = _RANGE.match(str(key))
        low = int(match.group(1)) if match else 0
        high = int(match.group(2) or low) if match else 0
        if not match or not 1 <= low <= high <= 10:
            raise ConfigError(f"Priority map range {key!r} is not a range within 1-10 written low to high.",
                              "Use ranges like \"1-3\", \"4-6\", \"7-10\".", field="alm_priority_map")
        for priority in range(low, high + 1):
            if priority in out:
                raise ConfigError(f"Priority {priority} appears twice in the priority map.",
                                  "Each priority from 1 to 10 must be in exactly one range.", field="alm_priority_map")
            out[priority] = str(value)
    missing = [p for p in range(1, 11) if p not in out]
    if missing:
        raise ConfigError(f"Priority map leaves out {', '.join(map(str, missing))}.",
                          "Each priority from 1 to 10 must be in exactly one range.", field="alm_priority_map")
    return out


def browser_url(server: str, card: CardType | str, project_oid: str, oid: str) -> str:
    """Rally's item page, e.g. ``https://rally1.rallydev.com/#/123d/detail/defect/456``."""
    kind = card.url_kind if isinstance(card, CardType) else card
    scope = f"{project_oid}d/" if project_oid else ""
    return f"{server}/#/{scope}detail/{kind}/{oid}"
