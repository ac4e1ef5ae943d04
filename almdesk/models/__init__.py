"""The store: typed SQLAlchemy models, Alembic migrations, and session helpers."""

from almdesk.models.store import Store
from almdesk.models.tables import (
    Base,
    Connection,
    Connector,
    Job,
    JobEventRow,
    JobReport,
    JournalEntry,
    Link,
    Project,
    RemoteItem,
    SourceReference,
    SourceTask,
    Task,
)

__all__ = ["Base", "Connection", "Connector", "Job", "JobEventRow", "JobReport", "JournalEntry", "Link", "Project",
           "RemoteItem", "SourceReference", "SourceTask", "Store", "Task"]
