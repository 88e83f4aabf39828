"""My daily digest e-mail: on or off, and the one-click unsubscribe of its mails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import digest
from kith.api.deps import MAX_ID, AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import DigestPrefIn, DigestPrefOut

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)


@router.get("/me/digest")
def get_digest(app: AppDep, viewer: ViewerDep) -> DigestPrefOut:
    return DigestPrefOut(email=digest.get_digest_email(app, viewer))


@router.put("/me/digest")
def set_digest(app: AppDep, viewer: ViewerDep, body: DigestPrefIn) -> DigestPrefOut:
    """Turn my daily digest e-mail on or off."""
    return DigestPrefOut(email=digest.check_set_digest_email(app, viewer, body.email))


@router.post("/digest/unsubscribe")
def unsubscribe(
    app: AppDep,
    p: Annotated[int, Query(ge=1, le=MAX_ID, description="The person.")],
    s: Annotated[str, Query(min_length=1, max_length=64, description="The link's signature.")],
) -> DigestPrefOut:
    """One-click unsubscribe (RFC 8058) from a digest's List-Unsubscribe link; no sign-in."""
    digest.do_unsubscribe(app, p, s)
    return DigestPrefOut(email=False)
