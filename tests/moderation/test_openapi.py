"""The OpenAPI document: served, valid 3.1, and complete (every route of the app documented)."""

from __future__ import annotations

import jsonschema_rs
import schemathesis

from server.app import create_app
from server.openapi import build_document, undocumented


def test_every_route_is_documented(make_settings):
    app = create_app(make_settings())
    assert undocumented(app) == []
    document = build_document(app)
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.method not in ("HEAD", "OPTIONS")
    }
    assert documented == routes


async def test_document_is_served_and_loads(client):
    r = await client.get("/api/v1/openapi.json")
    assert r.status == 200 and r.content_type == "application/json"
    document = await r.json()
    assert document["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # the OpenAPI 3.1 meta-schema
    assert len(list(schema.get_all_operations())) == sum(
        len(ops) for ops in document["paths"].values()
    )
    again = await client.get("/api/v1/openapi.json")
    assert await again.read() == await r.read()


def test_components_are_valid_json_schema(make_settings):
    document = build_document(create_app(make_settings()))
    for name, schema in document["components"]["schemas"].items():
        resolvable = {**schema, "components": document["components"]}
        jsonschema_rs.validator_for(resolvable)  # raises on an invalid schema
        assert name


def test_review_operations_declare_roles_and_errors(make_settings):
    document = build_document(create_app(make_settings()))
    decisions = document["paths"]["/api/v1/moderation/decisions"]["post"]
    assert decisions["x-required-roles"] == ["moderator"]
    assert decisions["security"] == [{"bearer": []}]
    assert {"200", "400", "401", "403", "413", "422", "503"} <= set(decisions["responses"])
    policy = document["paths"]["/api/v1/moderation/policy"]["put"]
    assert policy["x-required-roles"] == ["admin"]
    queue = document["paths"]["/api/v1/moderation/queues/{queue}"]["get"]
    names = {p["name"] for p in queue["parameters"]}
    assert {
        "queue",
        "article_id",
        "author_id",
        "since",
        "until",
        "reason",
        "order",
        "cursor",
        "limit",
    } <= names
    thread = document["paths"]["/api/v1/articles/{article_id}/comments"]["get"]
    assert thread["security"] == [{}, {"bearer": []}]
