"""The query parameters of `/api/stats/*`, as models for the OpenAPI document.

`stats_params` parses them (strictly: a bad value is a 400 naming it); these models say the
same in JSON Schema, so the document shows every parameter, its values and its default.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from chain429.usage.series import BucketSize, GroupBy

TIME = (
    "Epoch milliseconds or ISO 8601 (a time without a zone is UTC); `from` must come before `to`."
)


class _Query(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)


class RangeQuery(_Query):
    """A time range and a grouping (totals, outcomes)."""

    start: str | None = Field(default=None, alias="from", description=TIME)
    end: str | None = Field(default=None, alias="to", description=TIME)
    group_by: GroupBy = Field(default=GroupBy.PROVIDER, alias="groupBy")


class SeriesQuery(RangeQuery):
    bucket: BucketSize = Field(
        default=BucketSize.HOUR, description="At most 1,440 buckets per group."
    )


class RequestLogQuery(_Query):
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: str | None = Field(default=None, description="The `nextCursor` of the page before.")
    chain: str | None = None
    provider: str | None = None
    status: str | None = Field(
        default=None,
        description="A code (429), a class (4xx), `error` (400 and up) or `success`.",
        pattern=r"^([1-5]xx|[1-5][0-9][0-9]|error|success)$",
    )
    start: str | None = Field(default=None, alias="from", description=TIME)
    end: str | None = Field(default=None, alias="to", description=TIME)
