"""The OpenAPI document and its docs page: every /v1 operation says what it answers, with examples, that it
needs an API key, and what its errors look like; the public unsubscribe pages are described too."""

from __future__ import annotations

import re

import pytest

from onboardflow.api.problems import PROBLEM_JSON

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


@pytest.fixture
def document(memory_api) -> dict:
    response = memory_api.client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict, prefix: str):
    for path, item in document["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                yield f"{method.upper()} {path}", operation


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_docs_page_is_served(memory_api):
    response = memory_api.client.get("/docs")

    assert response.status_code == 200
    assert "swagger-ui" in response.text and "/openapi.json" in response.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_what_the_server_itself_serves(memory_api, page):
    html = memory_api.client.get(page).text
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)

    assert urls and not [url for url in urls if not url.startswith("/")], urls  # no CDN, no other host
    for url in urls:
        asset = memory_api.client.get(url)
        assert asset.status_code == 200, url
        kind = next(kind for suffix, kind in ASSET_TYPES.items() if url.endswith(suffix))
        assert kind in asset.headers["content-type"], url
        assert len(asset.content) > 500, url  # the file itself, not a stub
    assert "http://" not in html and "https://" not in html


def test_swagger_ui_asks_no_validator_service_about_the_document(memory_api):
    assert '"validatorUrl": null' in memory_api.client.get("/docs").text


def test_every_v1_operation_needs_a_bearer_key_and_describes_itself(document):
    for name, operation in operations(document, "/v1/"):
        # Segment sources send their write key as HTTP Basic; every other route takes only a bearer key
        expected = [{"HTTPBearer": []}, {"HTTPBasic": []}] if name == "POST /v1/segment" else [{"HTTPBearer": []}]
        assert operation.get("security") == expected, name
        assert operation.get("description") or operation.get("summary"), name
        assert {"401", "403"} <= set(operation["responses"]), name


def test_every_v1_answer_has_a_schema_with_an_example(document):
    for name, operation in operations(document, "/v1/"):
        if name == "GET /v1/customers/{customer_id}/export":
            continue  # the GDPR export document, described on its own page (docs/consent.md)
        answers = [code for code in operation["responses"] if code.startswith("2")]
        assert answers, name
        for code in answers:
            content = operation["responses"][code].get("content", {}).get("application/json")
            if content is None:
                continue  # 200 of PUT /v1/journeys: the same model as its 201
            schema = resolve(document, content["schema"])
            assert schema.get("examples") or schema.get("example"), f"{name} {code}: no example"


def test_errors_are_documented_as_problem_documents(document):
    for name, operation in operations(document, "/v1/"):
        for code, answer in operation["responses"].items():
            if code.startswith("4"):
                assert list(answer["content"]) == [PROBLEM_JSON], f"{name} {code}"


def test_the_journey_routes_take_yaml_or_json_bodies(document):
    for path in ("/v1/journeys/validate", "/v1/journeys/{journey_id}"):
        method = "post" if path.endswith("validate") else "put"
        content = document["paths"][path][method]["requestBody"]["content"]
        assert set(content) == {"application/yaml", "application/json"}
        assert "steps:" in content["application/yaml"]["example"]


def test_the_unsubscribe_and_preference_pages_are_described(document):
    for name, operation in operations(document, "/unsubscribe/"):
        assert operation.get("description"), name
    for name, operation in operations(document, "/preferences/"):
        assert operation.get("description"), name
    one_click = document["paths"]["/unsubscribe/{token}"]["post"]
    assert "RFC 8058" in one_click["description"]
