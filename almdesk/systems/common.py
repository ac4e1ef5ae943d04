"""Connection params shared by every system (sdetools names and defaults, DESIGN §3).

``alm_context`` is SD Elements' connection context: the text ``$context`` in ``alm_title_format``
stands for (sdetools: "``${context}`` needs ``alm_context``").
"""

from __future__ import annotations

from almdesk.base.fields import Field, FieldKind, PairTable

PHASES = ("requirements", "architecture-design", "development", "testing", "deployment")
STATUSES = ("TODO", "DONE", "NA")
VERIFICATIONS = ("none", "partial", "pass", "fail")
PHASE_LABELS = ("Requirements", "Architecture & design", "Development", "Testing", "Deployment")
STATUS_LABELS = ("To do", "Done", "Not applicable")
VERIFICATION_LABELS = ("Not verified", "Partially verified", "Passed", "Failed")

# The priority map as rows: a task priority or range of them → the ALM's priority name.
PRIORITY_TABLE = PairTable("Task priorities", "ALM priority", r"(10|[1-9])(\s*-\s*(10|[1-9]))?",
                           "a task priority like 7 or a range like 1-3 (within 1-10)")

COMMON_CONNECTION_FIELDS: tuple[Field, ...] = (
    Field("alm_phases", "Phases", FieldKind.MULTI_CHOICE, default=["requirements", "architecture-design",
                                                                   "development"],
          choices=PHASES, choice_labels=PHASE_LABELS, section="Scope", help="Only tasks in these phases are synced."),
    Field("sde_min_priority", "Minimum priority", FieldKind.INT, default=7, minimum=1, maximum=10,
          section="Scope", help="Tasks with a lower priority (1–10) are left out."),
    Field("sde_statuses_in_scope", "Create for statuses", FieldKind.MULTI_CHOICE, default=["TODO"],
          choices=STATUSES, choice_labels=STATUS_LABELS, section="Scope",
          help="A missing ALM item is created only for tasks in these statuses."),
    Field("sde_verification_filter", "Verification", FieldKind.MULTI_CHOICE,
          default=["none", "partial", "pass", "fail"], choices=VERIFICATIONS, choice_labels=VERIFICATION_LABELS,
          section="Scope", help="Only tasks with one of these verification results are synced."),
    Field("sde_tags_filter", "Required tags", FieldKind.TEXT, default="", section="Scope",
          help="Comma-separated; a task must carry every one of them."),
    Field("alm_title_format", "Title format", FieldKind.TEXT, default="$task_id $title", section="Target",
          help="Must contain $task_id and $title; may use $context, $application, $project."),
    Field("alm_context", "Context", FieldKind.TEXT, default="", section="Target", placeholder="e.g. Shop Web",
          help="What $context in the title format stands for (SD Elements' alm_context), the same for every item "
               "of this connection; needed when the title format uses $context. Part of the lookup title: "
               "changing it later means existing items are no longer found by their titles."),
    Field("conflict_policy", "Conflict policy", FieldKind.CHOICE, default="alm", choices=("alm", "sde", "timestamp"),
          choice_labels=("The ALM's status wins", "almdesk's status wins", "The later change wins"),
          section="Status", help="alm: the ALM status wins; sde: almdesk's wins; timestamp: the later change wins."),
    Field("alm_priority_map", "Priority map", FieldKind.TEXT, default="", section="Status", table=PRIORITY_TABLE,
          help="Rows of task priorities (7) or ranges (1-3) and the ALM priority each gets; no rows: the system's "
               'default. On the command line: JSON, e.g. {"1-3":"Low","4-6":"Medium","7-10":"High"}.'),
    Field("alm_standard_workflow", "Sync statuses", FieldKind.BOOL, default=True, section="Status",
          help="Off: items are created but their status is never synced."),
)
