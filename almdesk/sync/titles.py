"""ALM item titles: the full title written at creation and the *fixed* title used for lookup.

``alm_title_format`` (sdetools, default ``$task_id $title``) may use ``$task_id``, ``$title``,
``$context``, ``$application`` and ``$project`` (``${name}`` works too). ``$context`` is the connection's
``alm_context`` setting (SD Elements' context; a format using it needs one), ``$application`` and
``$project`` come from the connection's project. The task id is written
``T21:`` so that a lookup for T2 never matches T222. The fixed title is the format with an empty
title (``[App Proj] T21:``); matching an item's title against it is done for all tasks at once with
one regular expression that extracts the task id, so 5,000 items cost 5,000 matches, not 25 million.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from almdesk.errors import ConfigError

_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
KNOWN_VARIABLES = ("task_id", "title", "context", "application", "project")
MAX_TITLE = 255


def _clean(text: str) -> str:
    """One line, single spaces: ALM titles are single-line and trimmed by most servers."""
    return " ".join(text.split())


@dataclass(frozen=True)
class TitleFormat:
    """A parsed ``alm_title_format`` bound to one connection's context/application/project."""

    template: str
    values: Mapping[str, str]
    _pattern: re.Pattern[str]

    @classmethod
    def parse(cls, template: str, *, context: str = "", application: str = "", project: str = "") -> TitleFormat:
        template = (template or "").strip() or "$task_id $title"
        names = [m.group(1) or m.group(2) for m in _VAR.finditer(template)]
        unknown = sorted({n for n in names if n not in KNOWN_VARIABLES})
        if unknown:
            raise ConfigError(f"Title format uses unknown variable(s): {', '.join('$' + n for n in unknown)}.",
                              "Use only $task_id, $title, $context, $application and $project.",
                              field="alm_title_format")
        for needed in ("task_id", "title"):
            if names.count(needed) != 1:
                raise ConfigError(f"Title format must contain ${needed} exactly once.",
                                  "For example: $task_id $title", field="alm_title_format")
        if "context" in names and not _clean(context):
            raise ConfigError("Title format uses $context, but Context is empty.",
                              "Enter the connection's Context (SD Elements' alm_context), or take $context out "
                              "of the title format.", field="alm_context")
        values = {"context": _clean(context), "application": _clean(application), "project": _clean(project)}
        return cls(template, values, _compile(template, values))

    @classmethod
    def of(cls, params: Mapping[str, object], *, application: str = "", project: str = "") -> TitleFormat:
        """The format of a connection's parsed params (``alm_title_format`` with its ``alm_context``)."""
        return cls.parse(str(params.get("alm_title_format") or ""), context=str(params.get("alm_context") or ""),
                         application=application, project=project)

    def full(self, task_id: str, title: str) -> str:
        """The title an item is created with (collapsed to one line, at most 255 characters)."""
        text = self._expand(task_id, title)
        if len(text) > MAX_TITLE:
            text = text[:MAX_TITLE - 1].rstrip() + "…"
        return text

    def task_id_of(self, title: str) -> str | None:
        """The task id a title was made for under this format, or None when it does not fit."""
        m = self._pattern.fullmatch(_clean(title))
        return m.group("tid") if m else None

    def _expand(self, task_id: str, title: str) -> str:
        def sub(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            if name == "task_id":
                return f"{task_id}:"
            if name == "title":
                return title
            return self.values.get(name, "")

        return _clean(_VAR.sub(sub, self.template))


def check_title_settings(params: Mapping[str, object]) -> dict[str, ConfigError]:
    """Errors of a connection's title settings by field (empty when fine), for validating before a save.

    The format must be valid (``$task_id`` and ``$title`` once each, known variables; ``${name}`` works)
    and a format using ``$context`` needs ``alm_context``. The project's names are not needed here.
    """
    try:
        TitleFormat.of(params, application="application", project="project")
    except ConfigError as exc:
        return {exc.field or "alm_title_format": exc}
    return {}


def _compile(template: str, values: Mapping[str, str]) -> re.Pattern[str]:
    """A pattern matching every title the format can produce; group ``tid`` is the task id.

    Literal text is matched exactly except that whitespace is optional (titles are trimmed and
    collapsed, and an empty context leaves a space); ``$title`` matches anything.
    """
    parts: list[str] = []
    pos = 0
    for m in _VAR.finditer(template):
        parts.append(_literal(template[pos:m.start()]))
        name = m.group(1) or m.group(2)
        if name == "task_id":
            parts.append(r"(?P<tid>[^\s:]+):")
        elif name == "title":
            parts.append(r".*?")
        else:
            parts.append(_literal(values.get(name, "")))
        pos = m.end()
    parts.append(_literal(template[pos:]))
    return re.compile(r"\s*" + "".join(parts) + r"\s*", re.DOTALL)


def _literal(text: str) -> str:
    return r"\s*" + r"\s*".join(re.escape(chunk) for chunk in text.split()) + r"\s*"
