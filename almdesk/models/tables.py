"""SQLAlchemy 2.0 typed models: connectors, connections, projects, tasks, links, jobs, events, journal,
and the remote admin's mirror of a server's ALM connectors/connections and its queued job reports.

Field names follow the SD Elements ALM API (seed 002) where it has them. No secret is ever stored
here: secrets live in the OS keyring, keyed by the connector's ``uid``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Connector(Base):
    __tablename__ = "connector"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    system: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    network: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inaccessible: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    connections: Mapped[list[Connection]] = relationship(back_populates="connector")


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    business_unit: Mapped[str] = mapped_column(String(200), default="")
    application: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # bound to a server project (SD Elements): its tasks are pulled from there, results written back
    source_connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connector.id", ondelete="SET NULL", name="fk_project_source_connector"), nullable=True)
    source_project: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the server project's id
    include_unaccepted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_refresh: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refresh_counts: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")

    tasks: Mapped[list[Task]] = relationship(back_populates="project", cascade="all, delete-orphan")


class Connection(Base):
    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(200), unique=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="RESTRICT"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"), nullable=True)
    frequency: Mapped[str] = mapped_column(String(20), default="manually")
    debug_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inaccessible: Mapped[bool] = mapped_column(Boolean, default=False)
    in_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    last_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    connector: Mapped[Connector] = relationship(back_populates="connections")
    project: Mapped[Project | None] = relationship()


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("project_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(80), default="development")
    priority: Mapped[int] = mapped_column(Integer, default=7)
    status: Mapped[str] = mapped_column(String(8), default="TODO")
    verification: Mapped[str] = mapped_column(String(10), default="none")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="tasks")


class Link(Base):
    """Task ↔ ALM item for one connection."""

    __tablename__ = "link"
    __table_args__ = (UniqueConstraint("connection_id", "task_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    task_pk: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    alm_ref: Mapped[str] = mapped_column(String(200))
    alm_key: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    alm_status: Mapped[str] = mapped_column(String(200), default="")
    alm_done: Mapped[bool] = mapped_column(Boolean, default=False)
    seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # linked, or detached: unlinked by the user; syncs neither re-link nor re-create the task's item
    state: Mapped[str] = mapped_column(String(10), default="linked", server_default="linked")


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_connection_started", "connection_id", "started"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # test-connector, test-connection, sync, dry-run, gate, defect
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="SET NULL"),
                                                      nullable=True)
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connector.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued running succeeded failed cancelled
    in_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    succeeded: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_run: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    result_message: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trace_path: Mapped[str] = mapped_column(Text, default="", server_default="")


class JobEventRow(Base):
    __tablename__ = "job_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    time: Mapped[float] = mapped_column(Float)
    item: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(12), default="ok")
    message: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")


class JournalEntry(Base):
    """Written before and after every server write of a sync, so an interrupted sync resumes safely."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_connection_state", "connection_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    task_pk: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(20))  # create close reopen update-local
    # pending done failed, or unknown: a create sent whose outcome is unknown (timeout, 504, reset)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    alm_ref: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # an unknown-fate create: the connector's timeout (s) then; no new create before finished + 2 x timeout
    timeout: Mapped[float | None] = mapped_column(Float, nullable=True)


class SourceTask(Base):
    """What almdesk knows of a bound project's task on the server: its id there, the status (meaning)
    the server last had, and a status write-back sent but not yet recorded (``sent_status``).

    A task whose local status differs from ``server_status`` has a status the ALM settled that is not
    yet on the server: the refresh keeps it, and the write-back sends it.
    """

    __tablename__ = "source_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_pk: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), unique=True)
    server_id: Mapped[str] = mapped_column(String(60))
    server_status: Mapped[str] = mapped_column(String(8), default="TODO")
    artifact_proxy: Mapped[str] = mapped_column(Text, default="")
    sent_status: Mapped[str | None] = mapped_column(String(8), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SourceReference(Base):
    """A task reference almdesk recorded on the server for one connection's item (once; then updated)."""

    __tablename__ = "source_reference"
    __table_args__ = (UniqueConstraint("task_pk", "connection_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_pk: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    server_connection: Mapped[int] = mapped_column(Integer)
    server_ref_id: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(Text, default="")


class RemoteItem(Base):
    """A server ALM connector or connection (``kind``) as last pulled through SD Elements connector
    ``source_id``: its server id (None: created locally, not pushed yet), the local item it mirrors,
    its **own** non-secret params in the server's spelling (``params``; a connection's inherited ones
    left out), which server secret param feeds which local secret field (``secret_keys``; values only
    in the keyring), the server-only facts (``server``: frequency, project, last_job, …) and, for an
    item almdesk cannot take (unknown system, invalid settings), why it is read-only."""

    __tablename__ = "remote_item"
    __table_args__ = (UniqueConstraint("source_id", "kind", "server_id", name="uq_remote_item_server"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # connector | connection
    server_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    system_id: Mapped[str] = mapped_column(String(60))
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connector.id", ondelete="SET NULL"), nullable=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="SET NULL"),
                                                      nullable=True)
    mirrored: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # had a local item (gone → delete on server)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    secret_keys: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    server: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    read_only: Mapped[str] = mapped_column(Text, default="", server_default="")
    pulled: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobReport(Base):
    """A desktop job's result for the server's ALM job history: ``queued`` → ``sending`` (POST under
    way: its fate is checked on the server before any resend) → ``sent``."""

    __tablename__ = "job_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(Integer, unique=True)
    server_connection: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    result_message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    server_job: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=True)
    sent: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
