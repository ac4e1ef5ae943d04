"""The Rally types the sandbox serves: their attributes, kinds, allowed values and collections.

One table drives validation of writes, rendering with ``fetch``, query attribute lookup, the
``TypeDefinition``/``AttributeDefinition`` objects and the ``/slm/schema/v2.0`` document pyral reads.
Attribute kinds are Rally's ``AttributeType`` values (STRING, TEXT, INTEGER, QUANTITY, BOOLEAN,
DATE, OBJECT, COLLECTION, STATE, RATING).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attr:
    name: str
    kind: str = "STRING"
    target: str = ""  # OBJECT/COLLECTION: the referenced type
    required: bool = False
    read_only: bool = False
    allowed: tuple[str, ...] = ()
    default: str | None = None
    max_length: int = 0
    inverse: str = ""  # COLLECTION computed from target objects whose <inverse> field points here
    hidden: bool = False


@dataclass(frozen=True)
class TypeDef:
    element: str  # ElementName and TypePath
    display: str
    attrs: tuple[Attr, ...]
    prefix: str = ""  # FormattedID prefix (US, DE, TA)
    parent: str = ""
    creatable: bool = False
    workspace_scoped: bool = True
    project_scoped: bool = False
    abstract: bool = False
    attr_map: dict[str, Attr] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.attr_map.update({a.name.lower(): a for a in self.attrs})

    def attr(self, name: str) -> Attr | None:
        return self.attr_map.get(name.lower())


SCHEDULE_STATES = ("Defined", "In-Progress", "Completed", "Accepted")
DEFECT_STATES = ("Submitted", "Open", "Fixed", "Closed")
TASK_STATES = ("Defined", "In-Progress", "Completed")
SEVERITIES = ("None", "Crash/Data Loss", "Major Problem", "Minor Problem", "Cosmetic")
PRIORITIES = ("None", "Resolve Immediately", "High Attention", "Normal", "Low")
ENVIRONMENTS = ("None", "Development", "Test", "Production")
ROLES = ("Viewer", "Editor", "Project Admin")

_BASE = (
    Attr("ObjectID", "INTEGER", read_only=True),
    Attr("ObjectUUID", "STRING", read_only=True),
    Attr("CreationDate", "DATE", read_only=True),
)
_WS = (Attr("Workspace", "OBJECT", "Workspace", read_only=True),)
_ARTIFACT = (
    *_BASE, *_WS,
    Attr("FormattedID", "STRING", read_only=True),
    Attr("Name", "STRING", required=True, max_length=256),
    Attr("Description", "TEXT", max_length=32768),
    Attr("Notes", "TEXT", max_length=32768),
    Attr("Owner", "OBJECT", "User"),
    Attr("Project", "OBJECT", "Project", required=True),
    Attr("Tags", "COLLECTION", "Tag"),
    Attr("LastUpdateDate", "DATE", read_only=True),
    Attr("Ready", "BOOLEAN", default="false"),
    Attr("Blocked", "BOOLEAN", default="false"),
    Attr("DragAndDropRank", "STRING", read_only=True),
)

TYPES: tuple[TypeDef, ...] = (
    TypeDef("Subscription", "Subscription", (
        *_BASE, Attr("Name", required=True), Attr("SubscriptionID", "INTEGER", read_only=True),
        Attr("Workspaces", "COLLECTION", "Workspace", inverse="Subscription"),
    ), workspace_scoped=False),
    TypeDef("Workspace", "Workspace", (
        *_BASE, Attr("Name", required=True), Attr("State", allowed=("Open", "Closed"), default="Open"),
        Attr("Description", "TEXT"), Attr("Subscription", "OBJECT", "Subscription", read_only=True),
        Attr("Projects", "COLLECTION", "Project", inverse="Workspace"),
    ), workspace_scoped=False),
    TypeDef("Project", "Project", (
        *_BASE, *_WS, Attr("Name", required=True), Attr("State", allowed=("Open", "Closed"), default="Open"),
        Attr("Description", "TEXT"), Attr("Parent", "OBJECT", "Project"),
        Attr("Children", "COLLECTION", "Project", inverse="Parent"),
        Attr("Releases", "COLLECTION", "Release", inverse="Project"),
    )),
    TypeDef("User", "User", (
        *_BASE, Attr("UserName", required=True), Attr("DisplayName"), Attr("EmailAddress"),
        Attr("FirstName"), Attr("LastName"), Attr("Disabled", "BOOLEAN", default="false"),
        Attr("SubscriptionAdmin", "BOOLEAN", default="false"), Attr("Role"),
        Attr("UserProfile", "OBJECT", "UserProfile", read_only=True),
    ), workspace_scoped=False),
    TypeDef("UserProfile", "User Profile", (
        *_BASE, Attr("DefaultWorkspace", "OBJECT", "Workspace"), Attr("DefaultProject", "OBJECT", "Project"),
        Attr("TimeZone"),
    ), workspace_scoped=False),
    TypeDef("ProjectPermission", "Project Permission", (
        *_BASE, *_WS, Attr("Name", read_only=True), Attr("Role", allowed=ROLES),
        Attr("User", "OBJECT", "User", required=True), Attr("Project", "OBJECT", "Project", required=True),
    )),
    TypeDef("Release", "Release", (
        *_BASE, *_WS, Attr("Name", required=True), Attr("State", allowed=("Planning", "Active", "Accepted"),
                                                         default="Planning"),
        Attr("ReleaseStartDate", "DATE"), Attr("ReleaseDate", "DATE"), Attr("Notes", "TEXT"),
        Attr("Project", "OBJECT", "Project", required=True),
    ), project_scoped=True, creatable=True),
    TypeDef("Tag", "Tag", (
        *_BASE, *_WS, Attr("Name", required=True), Attr("Archived", "BOOLEAN", default="false"),
    ), creatable=True),
    TypeDef("Artifact", "Artifact", _ARTIFACT, abstract=True),
    TypeDef("HierarchicalRequirement", "User Story", (
        *_ARTIFACT,
        Attr("ScheduleState", "STATE", allowed=SCHEDULE_STATES, default="Defined"),
        Attr("Parent", "OBJECT", "HierarchicalRequirement"),
        Attr("Children", "COLLECTION", "HierarchicalRequirement", inverse="Parent"),
        Attr("Tasks", "COLLECTION", "Task", inverse="WorkProduct"),
        Attr("Defects", "COLLECTION", "Defect", inverse="Requirement"),
        Attr("Release", "OBJECT", "Release"),
        Attr("PlanEstimate", "QUANTITY"),
        Attr("AcceptedDate", "DATE", read_only=True),
        Attr("InProgressDate", "DATE", read_only=True),
    ), prefix="US", parent="Requirement", creatable=True, project_scoped=True),
    TypeDef("Defect", "Defect", (
        *_ARTIFACT,
        Attr("ScheduleState", "STATE", allowed=SCHEDULE_STATES, default="Defined"),
        Attr("State", "STATE", allowed=DEFECT_STATES, default="Submitted"),
        Attr("Severity", "RATING", allowed=SEVERITIES, default="None"),
        Attr("Priority", "RATING", allowed=PRIORITIES, default="None"),
        Attr("Environment", "RATING", allowed=ENVIRONMENTS, default="None"),
        Attr("Requirement", "OBJECT", "HierarchicalRequirement"),
        Attr("Release", "OBJECT", "Release"),
        Attr("SubmittedBy", "OBJECT", "User", read_only=True),
        Attr("FoundInBuild", "STRING"),
        Attr("Tasks", "COLLECTION", "Task", inverse="WorkProduct"),
        Attr("ClosedDate", "DATE", read_only=True),
        Attr("AcceptedDate", "DATE", read_only=True),
        Attr("InProgressDate", "DATE", read_only=True),
    ), prefix="DE", parent="SchedulableArtifact", creatable=True, project_scoped=True),
    TypeDef("Task", "Task", (
        *_ARTIFACT,
        Attr("State", "STATE", allowed=TASK_STATES, default="Defined"),
        Attr("WorkProduct", "OBJECT", "Artifact", required=True),
        Attr("Estimate", "QUANTITY"), Attr("ToDo", "QUANTITY"), Attr("Actuals", "QUANTITY"),
        Attr("TaskIndex", "INTEGER", read_only=True),
    ), prefix="TA", parent="Artifact", creatable=True, project_scoped=True),
    TypeDef("TypeDefinition", "Type Definition", (
        *_BASE, *_WS, Attr("Name"), Attr("ElementName"), Attr("DisplayName"), Attr("TypePath"),
        Attr("IDPrefix"), Attr("Abstract", "BOOLEAN"), Attr("Creatable", "BOOLEAN"),
        Attr("Queryable", "BOOLEAN"), Attr("ReadOnly", "BOOLEAN"), Attr("Parent", "OBJECT", "TypeDefinition"),
        Attr("Attributes", "COLLECTION", "AttributeDefinition", inverse="TypeDefinition"),
    )),
    TypeDef("AttributeDefinition", "Attribute Definition", (
        *_BASE, Attr("Name"), Attr("ElementName"), Attr("AttributeType"), Attr("Required", "BOOLEAN"),
        Attr("ReadOnly", "BOOLEAN"), Attr("Custom", "BOOLEAN"), Attr("Hidden", "BOOLEAN"),
        Attr("Constrained", "BOOLEAN"), Attr("Filterable", "BOOLEAN"), Attr("MaxLength", "INTEGER"),
        Attr("TypeDefinition", "OBJECT", "TypeDefinition", hidden=True),
        Attr("AllowedValues", "COLLECTION", "AllowedAttributeValue", inverse="AttributeDefinition"),
    ), workspace_scoped=False),
    TypeDef("AllowedAttributeValue", "Allowed Attribute Value", (
        *_BASE, Attr("StringValue"), Attr("AttributeDefinition", "OBJECT", "AttributeDefinition", hidden=True),
    ), workspace_scoped=False),
)

TYPE_BY_NAME: dict[str, TypeDef] = {t.element.lower(): t for t in TYPES}
TYPE_ALIASES = {"story": "hierarchicalrequirement", "userstory": "hierarchicalrequirement"}
ARTIFACT_TYPES = ("HierarchicalRequirement", "Defect", "Task")


def type_for(name: str) -> TypeDef | None:
    """Look a type up by its URL/element name, case-insensitively (``defect``, ``HierarchicalRequirement``)."""
    key = name.lower()
    return TYPE_BY_NAME.get(TYPE_ALIASES.get(key, key))


def display_name(attr: Attr) -> str:
    """Rally's attribute ``Name``: the element name with spaces before capitals (``Schedule State``)."""
    out = []
    for i, char in enumerate(attr.name):
        if i and char.isupper() and not attr.name[i - 1].isupper():
            out.append(" ")
        out.append(char)
    return "".join(out)
