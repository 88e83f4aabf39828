"""The roster CSV's columns: what the importer reads and what the simulator writes."""

from __future__ import annotations

ROSTER_COLUMNS = (
    "email",
    "name",
    "title",
    "department",
    "location",
    "manager_email",
    "timezone",
    "work_start",
    "work_end",
    "work_days",
)
