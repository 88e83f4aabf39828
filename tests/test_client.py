"""kith.client against a live server: sign in, post, stream with automatic resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.conftest import PASSWORD, Factory
from tests.live import serving

from kith.app import App
from kith.client import KithAPIError, KithClient


def test_sign_in_post_and_errors(app: App, make: Factory) -> None:
    ana = make.person("Ana")
    with serving(app) as url, KithClient.login(url, ana.person.email, PASSWORD) as client:
        assert client.me()["id"] == ana.id
        space = client.request("POST", "/spaces", {"name": "Client space"})
        made = client.create_topic(space["id"], "Hello", "first", is_question=True)
        reply = client.post(made["topic"]["id"], "second")
        assert reply["source"] == "second"
        with pytest.raises(KithAPIError) as refused:
            client.request("POST", "/spaces", {"name": ""})
        assert refused.value.status == 422
        assert "name" in refused.value.fields
        with pytest.raises(KithAPIError) as wrong:
            KithClient.login(url, ana.person.email, "wrong password")
        assert wrong.value.code == "unauthorized"


def test_stream_resumes_after_a_dropped_connection_without_gap_or_duplicate(app: App, make: Factory) -> None:
    owner, reader = make.person("Owner"), make.person("Reader")
    with (
        serving(app) as url,
        KithClient(url, owner.token) as writer,
        KithClient(url, reader.token) as client,
    ):
        space = writer.request("POST", "/spaces", {"name": "Resume"})
        client.request("POST", f"/spaces/{space['id']}/join")
        topic_id = writer.create_topic(space["id"], "Drops", "start")["topic"]["id"]
        expected = 30

        async def consume() -> list[dict[str, Any]]:
            received: list[dict[str, Any]] = []

            async def produce() -> None:
                for i in range(expected):
                    await asyncio.to_thread(writer.post, topic_id, f"post {i}")
                    if i in (5, 17):  # the network fails twice mid-flow
                        await client.drop_connection()

            producer: asyncio.Task[None] | None = None
            async with asyncio.timeout(30):
                async for event in client.stream(since=0):
                    received.append(event)
                    if producer is None and event["type"] == "post.created":
                        producer = asyncio.create_task(produce())
                    posts = [e for e in received if e["type"] == "post.created"]
                    if len(posts) == expected + 1:
                        break
            assert producer is not None
            await producer
            return received

        received = asyncio.run(consume())
    ids = [e["id"] for e in received]
    assert ids == sorted(set(ids)), "in order, none twice"
    sources = [e["payload"]["source"] for e in received if e["type"] == "post.created"]
    assert sources == ["start"] + [f"post {i}" for i in range(expected)]
