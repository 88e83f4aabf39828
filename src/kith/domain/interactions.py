"""Interactions: who communicated with whom, when, how, and how much. Never any content.

Every source of the network (Kith's own activity, imported mail, chat exports, edge lists,
the simulator) produces :class:`InteractionRecord` values keyed by e-mail address; one
loader matches the addresses to people and writes them in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["mail", "chat", "reply", "mention", "reaction", "answer", "seen", "edge"]
Origin = Literal["kith", "email", "slack", "csv"]

KINDS: tuple[Kind, ...] = ("mail", "chat", "reply", "mention", "reaction", "answer", "seen", "edge")
ORIGINS: tuple[Origin, ...] = ("kith", "email", "slack", "csv")

# Mail to more recipients than this is a broadcast: each tie weighs 1/recipients.
BROADCAST_RECIPIENTS = 25


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    """One directed interaction: ``source`` addressed ``target``.

    ``source`` and ``target`` are lower-case e-mail addresses (or, for edge lists that use
    them, person ids written as text). ``at`` is aware, UTC. ``weight`` is already scaled
    (a broadcast's tie weighs 1/recipients). ``context`` says where it happened without
    saying what was said: a Message-ID, a Slack channel and timestamp, a topic id.
    """

    source: str
    target: str
    kind: Kind
    at: datetime
    origin: Origin
    weight: float = 1.0
    context: str = ""
