"""Resolving what connection settings name — workspace, project, user, statuses, parent, tag, release —
into Rally objects, failing with messages that list the valid choices.

The lookups that only need the workspace (project, type definition, parent, tag) are also offered as
query specs (:data:`Spec`), so the sync adapter can send them in one ``POST /batch`` (see
:meth:`Resolver.prefetch`) and hand each method its pre-fetched hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from almdesk.errors import AuthError, ConfigError
from almdesk.systems.rally.client import RallyApiError, RallyClient, query_params, short_ref
from almdesk.systems.rally.fields import CardType
from almdesk.systems.rally.query import all_of, any_of, clause

LIST_LIMIT = 15
Spec = tuple[str, dict[str, Any]]  # a WSAPI query: the type and RallyClient.query's keyword arguments
Hits = list[dict[str, Any]]


def listing(names: list[str], empty: str = "(none)") -> str:
    names = sorted(set(names), key=str.lower)
    if not names:
        return empty
    shown = ", ".join(names[:LIST_LIMIT])
    return shown + (f" … and {len(names) - LIST_LIMIT} more" if len(names) > LIST_LIMIT else "")


def near_miss(wanted: str, names: list[str]) -> str:
    """A ' Did you mean …?' for a case or whitespace slip, else ''."""
    key = " ".join(wanted.split()).lower()
    hits = [n for n in names if " ".join(n.split()).lower() == key]
    return f" Did you mean {hits[0]!r}? Rally names are case-sensitive." if hits else ""


@dataclass(frozen=True)
class Named:
    """A resolved Rally object: its ref (``/project/123``), ObjectID and name."""

    ref: str
    oid: str
    name: str


@dataclass(frozen=True)
class Me:
    ref: str
    username: str
    display: str
    subscription_admin: bool


class Resolver:
    def __init__(self, client: RallyClient) -> None:
        self.client = client

    def me(self) -> Me:
        user = self.client.read("user", fetch="UserName,DisplayName,Disabled,SubscriptionAdmin,EmailAddress",
                                what="the signed-in user")
        if not user.get("_ref"):
            raise AuthError("Rally did not say who this API key belongs to.",
                            "Check the server URL points at Rally and the key is valid.", field=self.client.secret_field)
        return Me(short_ref(str(user["_ref"])), str(user.get("UserName") or ""),
                  str(user.get("DisplayName") or user.get("UserName") or ""), bool(user.get("SubscriptionAdmin")))

    def workspaces(self) -> tuple[str, list[dict[str, Any]]]:
        """(subscription name, its workspaces with Name/State)."""
        sub = self.client.read("subscription", fetch="Name,Workspaces", what="the subscription")
        ref = (sub.get("Workspaces") or {}).get("_ref")
        if not ref:
            return str(sub.get("Name") or ""), []
        spaces = self.client.collection(str(ref), fetch="Name,ObjectID,State", what="the subscription's workspaces")
        return str(sub.get("Name") or ""), spaces

    def workspace(self, name: str) -> Named:
        """A workspace by name (or by ObjectID, as ``--workspace 12345`` may give it)."""
        _, spaces = self.workspaces()
        hits = [w for w in spaces if w.get("Name") == name]
        if not hits and name.isdigit():
            hits = [w for w in spaces if str(w.get("ObjectID")) == name]
            name = str(hits[0].get("Name")) if hits else name
        open_names = [str(w.get("Name")) for w in spaces if w.get("State") != "Closed"]
        if not hits:
            raise ConfigError(f"Workspace {name!r} was not found, or this user cannot open it.{near_miss(name, open_names)}",
                              f"Workspaces this user can open: {listing(open_names)}.", field="rally_workspace")
        if len(hits) > 1:
            raise ConfigError(f"There are {len(hits)} workspaces named {name!r}.",
                              "Rename one of them in Rally so the name is unique.", field="rally_workspace")
        ws = hits[0]
        if ws.get("State") == "Closed":
            raise ConfigError(f"Workspace {name!r} is closed.",
                              f"Pick an open workspace: {listing(open_names)}.", field="rally_workspace")
        return Named(short_ref(str(ws["_ref"])), str(ws.get("ObjectID")), name)

    def find_workspace(self, name: str) -> Named:
        """:meth:`workspace` in one query of ``/workspace`` (the subscription's workspaces this user can open).

        Only a miss, a duplicate, a closed workspace or a server that will not query workspaces takes
        :meth:`workspace`'s way, whose message lists the workspaces to choose from.
        """
        wanted = clause("Name", "=", name)
        try:
            hits, _ = self.client.query("workspace", query=any_of(wanted, clause("ObjectID", "=", int(name)))
                                        if name.isdigit() else wanted, fetch="Name,ObjectID,State", pagesize=20,
                                        what=f"the workspace {name!r}")
        except RallyApiError:
            return self.workspace(name)
        hits = [w for w in hits if w.get("Name") == name] or [w for w in hits if str(w.get("ObjectID")) == name]
        if len(hits) != 1 or hits[0].get("State") == "Closed" or not hits[0].get("_ref"):
            return self.workspace(name)
        return Named(short_ref(str(hits[0]["_ref"])), str(hits[0].get("ObjectID")), str(hits[0].get("Name") or name))

    def prefetch(self, workspace: Named, specs: list[Spec],
                 what: str = "the connection's settings") -> list[Hits | None]:
        """The first page of each query in ``specs``, all in one ``POST /batch``.

        When Rally refuses the batch (an entry it cannot run, a server that will not batch reads) every
        answer is None: the methods then ask their own query, and fail with their own message.
        """
        try:
            pages = self.client.read_batch([(kind, query_params(**kwargs)) for kind, kwargs in specs],
                                           workspace=workspace.ref, what=what)
        except RallyApiError:
            return [None for _ in specs]
        return [hits for hits, _ in pages]

    @staticmethod
    def project_spec(workspace: Named, name: str) -> Spec:
        leaf = project_path(name)[-1]
        return "project", {"query": clause("Name", "=", leaf), "workspace": workspace.ref,
                           "fetch": "Name,ObjectID,State,Parent", "pagesize": 200}

    def project(self, workspace: Named, name: str, hits: Hits | None = None) -> Named:
        path = project_path(name)
        leaf = path[-1]
        if hits is None:
            kind, kwargs = self.project_spec(workspace, name)
            hits, _ = self.client.query(kind, what=f"the project {leaf!r}", **kwargs)
        if len(path) > 1:
            hits = [h for h in hits if self._parent_names(h)[-len(path) + 1:] == path[:-1]]
        if not hits:
            everything, _ = self.client.query("project", workspace=workspace.ref, fetch="Name,State", pagesize=500,
                                              what="the workspace's projects")
            names = [str(p.get("Name")) for p in everything if p.get("State") != "Closed"]
            raise ConfigError(f"Project {name!r} was not found in workspace {workspace.name!r}, or this user has no "
                              f"access to it.{near_miss(leaf, names)}",
                              f"Projects this user can see there: {listing(names)}.", field="alm_project")
        if len(hits) > 1:
            paths = [" // ".join([*self._parent_names(h), leaf]) for h in hits]
            raise ConfigError(f"{len(hits)} projects are named {leaf!r} in workspace {workspace.name!r}.",
                              f"Write the project's path instead, one of: {listing(paths)}.", field="alm_project")
        proj = hits[0]
        if proj.get("State") == "Closed":
            raise ConfigError(f"Project {name!r} is closed.", "Pick an open project, or reopen it in Rally.",
                              field="alm_project")
        return Named(short_ref(str(proj["_ref"])), str(proj.get("ObjectID")), name)

    def default_project(self, workspace: Named) -> Named | None:
        """The signed-in user's default project, when it lies in ``workspace``."""
        user = self.client.read("user", fetch="UserProfile", what="the signed-in user")
        profile_ref = (user.get("UserProfile") or {}).get("_ref")
        if not profile_ref:
            return None
        profile = self.client.read(str(profile_ref), fetch="DefaultProject,DefaultWorkspace",
                                   what="the user's profile")
        project, space = profile.get("DefaultProject") or {}, profile.get("DefaultWorkspace") or {}
        if not project.get("_ref") or short_ref(str(space.get("_ref") or "/x/0")) != workspace.ref:
            return None
        ref = short_ref(str(project["_ref"]))
        return Named(ref, ref.rsplit("/", 1)[-1], str(project.get("_refObjectName") or ref))

    def _parent_names(self, project: dict[str, Any]) -> list[str]:
        names: list[str] = []
        parent = project.get("Parent")
        seen = 0
        while isinstance(parent, dict) and parent.get("_ref") and seen < 20:
            names.insert(0, str(parent.get("Name") or parent.get("_refObjectName") or ""))
            parent = self.client.read(str(parent["_ref"]), fetch="Name,Parent", what="a parent project").get("Parent")
            seen += 1
        return names

    def role(self, me: Me, project: Named, workspace: Named) -> str | None:
        """The user's role on the project (Viewer / Editor / Project Admin), None when Rally shows none."""
        if me.subscription_admin:
            return "Subscription Admin"
        perms, _ = self.client.query("projectpermission", workspace=workspace.ref, fetch="Role",
                                     query=all_of(clause("User", "=", me.ref), clause("Project", "=", project.ref)),
                                     pagesize=5, what="the user's project permissions")
        return str(perms[0].get("Role")) if perms else None

    @staticmethod
    def type_spec(workspace: Named, element: str) -> Spec:
        return "typedefinition", {"workspace": workspace.ref, "fetch": "ElementName,Attributes",
                                  "query": clause("ElementName", "=", element), "pagesize": 5}

    def allowed_values(self, workspace: Named, element: str, attribute: str, types: Hits | None = None) -> list[str]:
        """The AllowedValues of ``element.attribute`` (e.g. HierarchicalRequirement.ScheduleState);
        ``types``: the answer of :meth:`type_spec`'s query when it was pre-fetched."""
        if types is None:
            kind, kwargs = self.type_spec(workspace, element)
            types, _ = self.client.query(kind, what=f"the {element} type definition", **kwargs)
        attrs_ref = (types[0].get("Attributes") or {}).get("_ref") if types else None
        if not attrs_ref:
            raise ConfigError(f"Rally has no {element} type in workspace {workspace.name!r}.",
                              "Pick another card type.", field="rally_card_type")
        attrs = self.client.collection(str(attrs_ref), fetch="ElementName,AllowedValues",
                                       query=clause("ElementName", "=", attribute),
                                       what=f"the {element}.{attribute} attribute")
        values_ref = (attrs[0].get("AllowedValues") or {}).get("_ref") if attrs else None
        if not values_ref:
            return []
        values = self.client.collection(str(values_ref), fetch="StringValue",
                                        what=f"the allowed values of {element}.{attribute}")
        return [str(v.get("StringValue")) for v in values if v.get("StringValue") not in (None, "")]

    def check_statuses(self, workspace: Named, card: CardType, new: str, done: list[str],
                       types: Hits | None = None) -> list[str]:
        allowed = self.allowed_values(workspace, card.element, card.status_field, types)
        if not allowed:
            return allowed
        if new not in allowed:
            raise ConfigError(f"New status {new!r} is not a {card.status_field} of {card.label} in workspace "
                              f"{workspace.name!r}.{near_miss(new, allowed)}",
                              f"Use one of: {', '.join(allowed)}.", field="rally_new_status")
        bad = [d for d in done if d not in allowed]
        if bad:
            extra = " (tasks only have Defined, In-Progress and Completed)" if card.name == "Task" else ""
            raise ConfigError(f"Done status(es) {', '.join(map(repr, bad))} are not {card.status_field} values of "
                              f"{card.label}{extra}.{near_miss(bad[0], allowed)}",
                              f"Use some of: {', '.join(allowed)}.", field="rally_done_statuses")
        return allowed

    @staticmethod
    def parent_spec(workspace: Named, formatted_id: str, card: CardType) -> Spec:
        """The query for a parent's FormattedID; ConfigError when it cannot be one."""
        fid = formatted_id.strip().upper()
        element = "Defect" if fid.startswith("DE") else "HierarchicalRequirement"
        if card.name != "Task" and element != "HierarchicalRequirement":
            raise ConfigError(f"Parent {fid} is a defect; a {card.label} can only have a user story as parent.",
                              "Enter the FormattedID of a user story, such as US12.", field="alm_parent_issue")
        if not fid[:2].isalpha() and not fid[:1].isalpha():
            raise ConfigError(f"Parent {formatted_id!r} is not a FormattedID.",
                              "Enter it as Rally shows it, such as US12.", field="alm_parent_issue")
        return element.lower(), {"query": clause("FormattedID", "=", fid), "workspace": workspace.ref,
                                 "fetch": "FormattedID,Name,ObjectID,Project", "pagesize": 2}

    def parent(self, workspace: Named, formatted_id: str, card: CardType, hits: Hits | None = None) -> dict[str, Any]:
        fid = formatted_id.strip().upper()
        kind, kwargs = self.parent_spec(workspace, formatted_id, card)
        if hits is None:
            hits, _ = self.client.query(kind, what=f"the parent {fid}", **kwargs)
        if not hits:
            raise ConfigError(f"Parent {fid} was not found in workspace {workspace.name!r}.",
                              "Enter the FormattedID of an existing user story (for example US12), as shown in "
                              "Rally.", field="alm_parent_issue")
        return hits[0]

    @staticmethod
    def tag_spec(workspace: Named, name: str) -> Spec:
        return "tag", {"query": clause("Name", "=", name), "workspace": workspace.ref, "fetch": "Name,ObjectID",
                       "pagesize": 2}

    def tag(self, workspace: Named, name: str, hits: Hits | None = None) -> Named | None:
        if hits is None:
            kind, kwargs = self.tag_spec(workspace, name)
            hits, _ = self.client.query(kind, what=f"the tag {name!r}", **kwargs)
        return Named(short_ref(str(hits[0]["_ref"])), str(hits[0].get("ObjectID")), name) if hits else None

    def ensure_tag(self, workspace: Named, name: str) -> Named:
        found = self.tag(workspace, name)
        if found is not None:
            return found
        obj = self.client.create("Tag", {"Name": name}, fetch="Name,ObjectID", workspace=workspace.ref,
                                 what=f"creating the tag {name!r}")
        return Named(short_ref(str(obj["_ref"])), str(obj.get("ObjectID")), name)

    def releases(self, workspace: Named, project: Named | None, name: str) -> int:
        """How many releases named ``name`` the project (and its children) has; fails listing the others."""
        hits, total = self.client.query("release", query=clause("Name", "=", name), workspace=workspace.ref,
                                        project=project.ref if project else None, fetch="Name", pagesize=1,
                                        what=f"the release {name!r}")
        del hits
        if total:
            return total
        everything = list(self.client.query_all("release", workspace=workspace.ref, fetch="Name", pagesize=500,
                                                project=project.ref if project else None, what="the releases"))
        names = [str(r.get("Name")) for r in everything]
        where = f"project {project.name!r}" if project else f"workspace {workspace.name!r}"
        raise ConfigError(f"Release {name!r} was not found in {where}.{near_miss(name, names)}",
                          f"Releases there: {listing(names)}.", field="release")


def project_path(name: str) -> list[str]:
    """A project name, or its path ``Parent // Child`` as a list of names."""
    return [p.strip() for p in name.split(" // ")] if " // " in name else [name]
