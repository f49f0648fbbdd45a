"""Request parsing: a problem with the whole query string is named as the query, not a body."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from pydantic import BaseModel, model_validator

from server.errors import BadRequest
from server.http import parse_query


class Window(BaseModel):
    since: int | None = None
    until: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since must not be after until")
        return self


def test_a_whole_query_problem_names_the_query() -> None:
    request = make_mocked_request("GET", "/x?since=5&until=1")
    with pytest.raises(BadRequest) as caught:
        parse_query(request, Window)
    assert caught.value.code == "invalid_query"
    assert caught.value.details[0]["field"] == "(query)"
    assert caught.value.message.startswith("(query): ")
