"""Create-once by an idempotency key, safe under concurrent repeats.

A lookup followed by an insert races: two callers with one `request_id` both find nothing and
both insert, and the loser's unique-index violation used to escape as INTERNAL. Here the loser
reads the winner's row and answers as a repeat would:

1. find the key; if found, go to 3;
2. insert; on a unique violation (a concurrent caller won), find the key again;
3. the found object is the answer if its content matches the request, else ALREADY_EXISTS
   naming the original (the contract's rule for a key reused with other content).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from service_core.errors import AlreadyExists

T = TypeVar("T")


async def create_once(
    find: Callable[[], Awaitable[T | None]],
    insert: Callable[[], Awaitable[T]],
    matches: Callable[[T], bool],
    conflict: Callable[[T], AlreadyExists],
) -> tuple[T, bool]:
    """(the object the key names, whether this call created it)."""
    existing = await find()
    if existing is None:
        try:
            return await insert(), True
        except IntegrityError:
            existing = await find()
            if existing is None:
                raise  # a violation of another unique index: not a repeat of this key
    if not matches(existing):
        raise conflict(existing)
    return existing, False
