"""Two servers on one database and one Redis: an event committed on one reaches the other.

Each App here is a whole server (its own engine, hub, dispatcher and Redis connection),
as two ``kith serve`` processes would be. The log is only looked at once a minute, so a
delivery within the test's timeout can only have come through Redis.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, Factory, make_settings

from kith.api.factory import create_api
from kith.app import App, build_app

REDIS_URL = os.environ.get("KITH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Redis at {REDIS_URL} does not answer")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    return REDIS_URL


@pytest.fixture
def two_servers(app: App, redis_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    settings = {"hub_backend": "redis", "redis_url": redis_url, "stream_poll_seconds": 60}
    first = build_app(make_settings(app.settings.database_url, **settings), hasher=FAST_HASHER)
    second = build_app(make_settings(app.settings.database_url, **settings), hasher=FAST_HASHER)
    with TestClient(create_api(first)) as a, TestClient(create_api(second)) as b:
        yield a, b
    first.close()
    second.close()


def test_a_post_on_one_server_reaches_a_reader_on_the_other(
    two_servers: tuple[TestClient, TestClient], make: Factory
) -> None:
    a, b = two_servers
    owner, reader = make.person("Owner"), make.person("Reader")
    space = a.post("/api/v1/spaces", json={"name": "Across"}, headers=owner.headers).json()
    a.post(f"/api/v1/spaces/{space['id']}/join", headers=reader.headers)
    with b.websocket_connect("/api/v1/stream", headers=reader.headers) as ws:
        assert json.loads(ws.receive_text())["type"] == "live"
        topic = a.post(
            f"/api/v1/spaces/{space['id']}/topics",
            json={"title": "From server A", "body": "hello B"},
            headers=owner.headers,
        ).json()
        received: list[dict[str, object]] = []
        while len(received) < 2:
            frame = json.loads(ws.receive_text())
            received += frame["events"]
    assert [e["type"] for e in received] == ["topic.created", "post.created"]
    post_payload = received[1]["payload"]
    assert isinstance(post_payload, dict)
    assert post_payload["id"] == topic["post"]["id"]


def test_a_reconnected_backend_makes_the_server_read_the_log_at_once(app: App, make: Factory) -> None:
    """News lost while Redis was away: the backend's reconnect (``notify(0)``) makes the
    server look at the end of the log at once, not at the next poll a minute later."""
    settings = {"stream_poll_seconds": 60}
    first = build_app(make_settings(app.settings.database_url, **settings), hasher=FAST_HASHER)
    second = build_app(make_settings(app.settings.database_url, **settings), hasher=FAST_HASHER)
    try:
        owner, reader = make.person("Owner"), make.person("Reader")
        with TestClient(create_api(first)) as a, TestClient(create_api(second)) as b:
            space = a.post("/api/v1/spaces", json={"name": "Lost news"}, headers=owner.headers).json()
            a.post(f"/api/v1/spaces/{space['id']}/join", headers=reader.headers)
            with b.websocket_connect("/api/v1/stream", headers=reader.headers) as ws:
                assert json.loads(ws.receive_text())["type"] == "live"
                a.post(
                    f"/api/v1/spaces/{space['id']}/topics",
                    json={"title": "While Redis was down", "body": "missed news"},
                    headers=owner.headers,
                )
                started = time.monotonic()
                second.dispatcher.notify(0)  # what RedisNews does on reconnecting
                types: list[str] = []
                while "topic.created" not in types:
                    types += [e["type"] for e in json.loads(ws.receive_text())["events"]]
                waited = time.monotonic() - started
        assert waited < 10, "delivered by the minute's poll, not at once"
        assert types[0] == "space.created"  # the public space's news first, in log order
    finally:
        first.close()
        second.close()
