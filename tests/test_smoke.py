"""The whole path once: sign in, create a space, a topic, a reply, read it back."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import PASSWORD, Factory


def test_sign_in_post_and_read_back(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    token = client.post("/api/v1/auth/login", json={"email": ana.person.email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    space = client.post("/api/v1/spaces", json={"name": "Customer Voices"}, headers=headers)
    assert space.status_code == 201, space.text
    assert space.json()["slug"] == "customer-voices"
    created = client.post(
        f"/api/v1/spaces/{space.json()['id']}/topics",
        json={"title": "Prices", "body": "Competitor X cut **prices**", "is_question": True},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    topic_id = created.json()["topic"]["id"]
    reply = client.post(f"/api/v1/topics/{topic_id}/posts", json={"body": "Seen it too"}, headers=headers)
    assert reply.status_code == 201
    listed = client.get(f"/api/v1/topics/{topic_id}/posts", headers=headers).json()
    assert [p["source"] for p in listed["items"]] == ["Competitor X cut **prices**", "Seen it too"]
    assert listed["items"][0]["html"] == "<p>Competitor X cut <strong>prices</strong></p>\n"
