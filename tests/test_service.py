"""``dedup serve``: every route of a real uvicorn process on loopback, over HTTP (httpx), the
error cases (401, 404, 405, 413, 422, 503, 500 without a traceback), and schemathesis run
against the service's own OpenAPI spec with every check.
"""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install -e '.[test]')")
pytest.importorskip("uvicorn", reason="the server extra is not installed (pip install -e '.[test]')")
httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install -e '.[test]')")

from conftest import EN, FILLER, REPO, dedup_command  # noqa: E402
from dedup_server import TOKEN, dedup_server  # noqa: E402
from report_schema import assert_valid_report  # noqa: E402

MAX_BODY = 100_000
AUTH = {"authorization": f"Bearer {TOKEN}"}
PUBLISHED = f"{EN[0]} {EN[1]} {EN[2]}"
# A reworded copy of EN[1] inside a new draft.
REWORDED = "Farmers in the northern valley are expecting a record wheat harvest after many months of steady rain."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with dedup_server(tmp_path_factory.mktemp("serve"), "--max-body-size", str(MAX_BODY)) as (url, log):
        yield url, log
    assert "Traceback" not in log.read_text(encoding="utf-8"), "the server logged an unexpected error"


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server[0], timeout=30) as c:
        yield c


def check(client, **body):
    """POST /v1/check; the JSON report, validated against the report schema (closed)."""
    response = client.post("/v1/check", json=body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert_valid_report(report)
    return report


def assert_problem(response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    for word in words:
        assert word in body["message"], body["message"]
    return body


# --- health and the page -----------------------------------------------------------------

def test_livez_and_readyz(client):
    assert client.get("/livez").json() == {"status": "ok", "index": None, "error": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["index"].endswith("index.sqlite")


def test_the_editor_page_is_self_contained(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<textarea" in page.text and 'dir="auto"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no external assets
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_openapi_lists_every_route(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    routes = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert {("/", "get"), ("/livez", "get"), ("/readyz", "get"), ("/v1/check", "post"),
            ("/v1/archive/{doc_id}", "put"), ("/v1/archive/{doc_id}", "delete"),
            ("/v1/archive/stats", "get")} <= routes
    assert spec["paths"]["/v1/archive/{doc_id}"]["put"]["security"]  # the bearer token is declared


# --- POST /v1/check ------------------------------------------------------------------------

def test_check_one_text(client):
    text = f"{EN[0]} {FILLER[0]} {EN[0]}"
    report = check(client, text=text, id="desk/draft-1", options={"archive": False})
    assert report["schema"] == "dedup.report/1"
    (finding,) = report["findings"]
    assert finding["kind"] == "exact" and finding["scope"] == "document" and finding["severity"] == "error"
    for span in (finding["sentence"], finding["match"]):
        assert span["doc"] == "desk/draft-1"
        assert text[span["start"]:span["end"]] == span["text"] == EN[0]
    assert report["fails"] is True
    assert report["stats"]["documents"] == 1 and report["stats"]["findings"] == 1


def test_check_documents_together_and_filter_kinds(client):
    docs = [{"id": "a.md", "text": f"# Title\n\n{EN[3]}\n", "format": "markdown"},
            {"id": "b.txt", "text": f"{EN[4]} {EN[3]}"}]
    report = check(client, documents=docs, options={"archive": False})
    (finding,) = report["findings"]
    assert finding["scope"] == "corpus" and finding["sentence"]["doc"] == "b.txt" and finding["match"]["doc"] == "a.md"
    assert docs[0]["text"][finding["match"]["start"]:finding["match"]["end"]] == EN[3]
    only_near = check(client, documents=docs, options={"archive": False, "kinds": ["near"]})
    assert only_near["findings"] == [] and only_near["fails"] is False


def test_markdown_code_is_not_checked(client):
    text = f"{EN[5]}\n\n```\n{EN[5]}\n```\n"
    assert check(client, text=text, format="markdown", options={"archive": False})["findings"] == []
    assert len(check(client, text=text, format="text", options={"archive": False})["findings"]) == 1


def test_html_and_sarif_reports(client):
    text = f"{EN[2]} {EN[2]}"
    page = client.post("/v1/check", json={"text": text, "report": "html", "options": {"archive": False}})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-dedup-findings"] == "1"
    assert 'class="kind-exact' in page.text
    assert 'data-finding="1"' in page.text
    sarif = client.post("/v1/check", json={"text": text, "report": "sarif", "options": {"archive": False}})
    assert sarif.headers["content-type"].startswith("application/sarif+json")
    log = sarif.json()
    assert log["version"] == "2.1.0" and len(log["runs"][0]["results"]) == 1


def test_markup_in_a_document_is_escaped_in_the_html_report(client):
    evil = 'The mayor said <script>alert(1)</script> the new <img src=x onerror="alert(2)"> bridge opens soon.'
    page = client.post("/v1/check", json={"text": f"{evil} {evil}", "report": "html", "options": {"archive": False}})
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_min_words_option(client):
    text = "Prices rose again. Prices rose again."
    assert len(check(client, text=text, options={"archive": False})["findings"]) == 1  # exact, any length
    short = "Prices rose sharply in the capital again this week. Prices rose sharply in capital again this week."
    assert check(client, text=short, options={"archive": False, "min_words": 20})["findings"] == []
    assert check(client, text=short, options={"archive": False, "min_words": 3})["findings"]


# --- the archive ---------------------------------------------------------------------------

def test_publish_check_against_archive_and_withdraw(client):
    doc_id = "2026/11/29/harvest"
    put = client.put(f"/v1/archive/{doc_id}", json={"text": PUBLISHED, "metadata": {"section": "farming"}},
                     headers=AUTH)
    assert put.status_code == 200, put.text
    assert put.json() == {"id": doc_id, "passages": 3}
    assert client.get("/v1/archive/stats").json()["documents"] >= 1

    draft = f"{FILLER[1]} {REWORDED}"
    report = check(client, text=draft)
    (finding,) = [f for f in report["findings"] if f["scope"] == "archive"]
    assert finding["match"]["doc"] == doc_id and finding["match"]["text"] == EN[1]
    assert draft[finding["sentence"]["start"]:finding["sentence"]["end"]] == REWORDED
    assert finding["kind"] in ("near", "normalized")
    assert report["stats"]["archive"]["candidates"] >= 1
    assert [f for f in check(client, text=draft, options={"archive": False})["findings"]
            if f["scope"] == "archive"] == []

    assert client.delete(f"/v1/archive/{doc_id}", headers=AUTH).status_code == 204
    assert [f for f in check(client, text=draft)["findings"] if f["scope"] == "archive"] == []
    assert_problem(client.delete(f"/v1/archive/{doc_id}", headers=AUTH), 404, doc_id)


def test_republishing_replaces_the_stored_document(client):
    doc_id = "replace-me"
    assert client.put(f"/v1/archive/{doc_id}", json={"text": f"{EN[3]} {EN[4]}"}, headers=AUTH).json()["passages"] == 2
    assert client.put(f"/v1/archive/{doc_id}", json={"text": EN[5]}, headers=AUTH).json()["passages"] == 1
    matches = [f["match"]["doc"] for f in check(client, text=EN[3])["findings"]]
    assert doc_id not in matches
    assert client.delete(f"/v1/archive/{doc_id}", headers=AUTH).status_code == 204


def test_archive_changes_need_the_token(client):
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}):
        response = client.put("/v1/archive/x", json={"text": EN[0]}, headers=headers)
        assert_problem(response, 401, "token")
        assert response.headers["www-authenticate"] == "Bearer"
        assert_problem(client.delete("/v1/archive/x", headers=headers), 401)
    assert check(client, text=EN[0])["schema"] == "dedup.report/1"  # checking needs no token


def test_concurrent_checks_agree_with_one_at_a_time(client, server):
    for k in range(3):
        client.put(f"/v1/archive/conc-{k}", json={"text": f"{EN[k]} {EN[k + 3]}"}, headers=AUTH)
    drafts = [f"{FILLER[k % 2]} {EN[k % 6]} {REWORDED}" for k in range(12)]
    alone = [check(client, text=d, id=f"d{k}")["findings"] for k, d in enumerate(drafts)]

    def remote(k: int):
        with httpx.Client(base_url=server[0], timeout=60) as c:
            return check(c, text=drafts[k], id=f"d{k}")["findings"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        together = list(pool.map(remote, range(len(drafts))))
    assert together == alone
    assert any(f["scope"] == "archive" for f in alone[0])
    for k in range(3):
        client.delete(f"/v1/archive/conc-{k}", headers=AUTH)


# --- errors --------------------------------------------------------------------------------

def test_body_over_the_limit_is_413(client, server):
    big = {"text": "word " * (MAX_BODY // 4)}
    assert_problem(client.post("/v1/check", json=big), 413, str(MAX_BODY))

    def chunks():  # no Content-Length: sent chunked
        yield b'{"text": "'
        for _ in range(MAX_BODY // 1000 + 1):
            yield b"a" * 1000
        yield b'"}'

    assert_problem(client.post("/v1/check", content=chunks(), headers={"content-type": "application/json"}), 413)
    assert client.get("/livez").status_code == 200  # and the server is still there


@pytest.mark.parametrize("body, words", [
    (b'{"text": ', ["not valid JSON"]),
    (b'{"text": "a", "documents": [{"id": "x", "text": "b"}]}', ["exactly one of"]),
    (b"{}", ["exactly one of"]),
    (b'{"text": "a", "colour": "red"}', ["colour"]),
    (b'{"text": 5}', ["text"]),
    (b'{"text": "a", "options": {"min_words": 0}}', ["min_words"]),
    (b'{"text": "a", "options": {"archive": "yes"}}', ["archive"]),
    (b'{"text": "a", "options": {"kinds": ["similar"]}}', ["kinds"]),
    (b'{"text": "a", "report": "pdf"}', ["report"]),
    (b'{"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}', ["given twice"]),
    (b'{"documents": []}', ["documents"]),
    (b'{"text": "\\ud800 lone"}', ["surrogate"]),
    (b'["text"]', ["body"]),
])
def test_malformed_check_is_422_with_a_message(client, body, words):
    response = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
    problem = assert_problem(response, 422, *words)
    assert problem["errors"] and all({"location", "message", "type"} <= e.keys() for e in problem["errors"])


@pytest.mark.parametrize("body, words", [
    (b'{"text": "caf\xe9 au lait"}', ["UTF-8", "byte 13"]),  # Latin-1, not UTF-8
    (b'{"text": "\xed\xa0\x80 lone"}', ["surrogate"]),  # a surrogate encoded in UTF-8
    (b"[" * 40_000 + b"]" * 40_000, ["nested too deeply"]),
    (b"{\"text\": \"a\", \"options\": " + b"{\"a\": " * 5_000 + b"1" + b"}" * 5_001, ["nested too deeply"]),
    (b'{"text": "a", "options": {"min_words": ' + b"9" * 5000 + b"}}", ["not valid JSON"]),
    (b'{"text": "a", "options": {"min_words": NaN}}', ["min_words"]),
    (b'{"text": "a", "options": {"min_words": 1e999}}', ["min_words"]),
    (b'{"text": "a", "options": {"min_words": 5.5}}', ["min_words"]),
    (b'{"text": ["a"]}', ["text"]),
    (b'{"text": "a", "id": 7}', ["id"]),
    (b'{"documents": {"id": "a", "text": "b"}}', ["documents"]),
    (b'{"documents": [{"id": "a", "text": "b", "format": "pdf"}]}', ["format"]),
    (b'{"text": "a", "options": []}', ["options"]),
    (b'"just a string"', ["body"]),
    (b"null", ["body"]),
    (b"", ["body"]),
])
def test_every_malformed_body_is_422(client, body, words):
    response = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
    problem = assert_problem(response, 422, *words)
    assert problem["errors"]


@pytest.mark.parametrize("doc_id, words", [
    ("a\x00b", ["printable", "U+0000"]),
    ("line\nbreak", ["printable", "U+000A"]),
    ("tab\there", ["printable", "U+0009"]),
    ("esc\x1b[31m", ["printable", "U+001B"]),
    ("\u202eevil", ["printable", "RIGHT-TO-LEFT OVERRIDE"]),
    ("para\u2029graph", ["printable"]),
    (" ", ["blank"]),
    ("\u00a0 \u3000", ["blank"]),
])
def test_document_ids_must_be_printable(client, doc_id, words):
    problem = assert_problem(check_response(client, text=EN[0], id=doc_id), 422, "id", *words)
    assert problem["errors"][0]["location"] == ["body", "id"]
    documents = [{"id": "fine", "text": EN[1]}, {"id": doc_id, "text": EN[2]}]
    assert_problem(check_response(client, documents=documents), 422, *words)
    from urllib.parse import quote
    assert_problem(client.put(f"/v1/archive/{quote(doc_id, safe='')}", json={"text": EN[0]}, headers=AUTH),
                   422, "document id", *words)
    assert_problem(client.delete(f"/v1/archive/{quote(doc_id, safe='')}", headers=AUTH), 422, "document id")


def test_printable_ids_of_any_script_are_accepted(client):
    for doc_id in ("مقال/٢٠٢٦/رئيسي", "نامه\u200cها", "desk draft 1", "日本語-ニュース", "a" * 1024):
        assert check(client, text=f"{EN[0]} {EN[0]}", id=doc_id, options={"archive": False}
                     )["findings"][0]["sentence"]["doc"] == doc_id


def json_values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def request_like():
    """Bodies shaped like a check request, with any value in any field."""
    fields = {name: json_values() for name in ("text", "id", "format", "documents", "options", "report")}
    return st.fixed_dictionaries({}, optional=fields).map(lambda body: json.dumps(body).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), json_values().map(lambda v: json.dumps(v).encode()), request_like(),
                      request_like().map(lambda b: b[: len(b) // 2])))
def test_any_body_is_answered_200_or_422(server, body):
    """Whatever the bytes, a check is answered (200) or refused with a JSON message (422):
    never 400, never 5xx."""
    response = httpx.post(f"{server[0]}/v1/check", content=body, headers={"content-type": "application/json"},
                          timeout=30)
    assert response.status_code in (200, 422), (body, response.status_code, response.text)
    if response.status_code == 422:
        assert response.json()["message"]


def check_response(client, **body):
    return client.post("/v1/check", json={**body, "options": {"archive": False}})


def test_a_body_that_is_not_json_says_so(client):
    response = client.post("/v1/check", content=b"text=hello", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_problem(response, 422, "application/json")


def test_malformed_publish_is_422(client):
    assert_problem(client.put("/v1/archive/x", json={"body": EN[0]}, headers=AUTH), 422, "text")
    assert_problem(client.put("/v1/archive/" + "x" * 1100, json={"text": EN[0]}, headers=AUTH), 422, "1024")
    assert_problem(client.put("/v1/archive/x", json={"text": EN[0], "metadata": [1]}, headers=AUTH), 422, "metadata")


def test_unknown_route_and_wrong_method(client):
    assert_problem(client.get("/v2/nothing"), 404)
    wrong = client.get("/v1/check")
    assert_problem(wrong, 405)
    assert wrong.headers["allow"] == "POST"
    assert client.post("/v1/archive/some-id").headers["allow"] == "DELETE, PUT"
    assert client.put("/v1/archive/stats", json={"text": "x"}, headers=AUTH).headers["allow"] == "GET"


def test_schemathesis_finds_no_server_error(server, tmp_path):
    """Every schemathesis check (status codes, content types, response schemas, negative and
    positive data, auth, stateful links) against the live server's own spec."""
    url, _ = server
    pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')")
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(REPO / "tests" / "schemathesis.toml"),
               "run", f"{url}/openapi.json", "--checks", "all", "--max-examples", "40", "--seed", "20261129",
               "--workers", "1", "--generation-database", "none", "-H", f"Authorization: Bearer {TOKEN}",
               "--report", "junit", "--report-dir", str(tmp_path)]
    # One worker: in schemathesis's worker threads, hypothesis's ast.parse of lambda sources
    # now and then trips CPython 3.11.7's spurious "AST constructor recursion depth mismatch"
    # SystemError (python/cpython#106905, fixed in later releases), which fails the run without any
    # server error.
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "passed" in proc.stdout


# --- in-process: what a live server should never show ------------------------------------

def test_an_internal_error_is_500_without_a_traceback(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from dedup.detector import Detector
    from dedup.service import ServiceSettings, create_app

    def broken(self, *args, **kwargs):
        raise RuntimeError("secret internals at /srv/dedup")

    monkeypatch.setattr(Detector, "check_many", broken)
    app = create_app(ServiceSettings(index=str(tmp_path / "i.sqlite"), engine_processes=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/check", json={"text": "x", "options": {"archive": False}})
    body = assert_problem(response, 500)
    assert body == {"message": "internal server error"} and "secret" not in response.text


def test_not_ready_until_the_index_opens_and_503_when_it_cannot(tmp_path):
    from fastapi.testclient import TestClient

    from dedup.service import ServiceSettings, create_app

    not_an_index = tmp_path / "notes.sqlite"
    not_an_index.write_text("these are my notes, not an index\n", encoding="utf-8")
    app = create_app(ServiceSettings(index=str(not_an_index)))
    with TestClient(app) as client:
        app.state.opener.wait(30)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "failed"
        assert "notes.sqlite" in ready.json()["error"]
        assert client.get("/livez").status_code == 200
        assert_problem(client.post("/v1/check", json={"text": EN[0]}), 503, "notes.sqlite")
        assert client.post("/v1/check", json={"text": EN[0], "options": {"archive": False}}).status_code == 200
        assert_problem(client.get("/v1/archive/stats"), 503)


def test_requests_wait_for_a_slow_index_with_503_and_retry_after(tmp_path, monkeypatch):
    import threading

    from fastapi.testclient import TestClient

    from dedup.archive.index import Index
    from dedup.service import ServiceSettings, create_app

    gate = threading.Event()
    real_open = Index.open

    def slow_open(*args, **kwargs):
        gate.wait(30)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Index, "open", slow_open)
    app = create_app(ServiceSettings(index=str(tmp_path / "slow.sqlite")))
    with TestClient(app) as client:
        starting = client.get("/readyz")
        assert starting.status_code == 503 and starting.json()["status"] == "starting"
        waiting = client.get("/v1/archive/stats")
        assert_problem(waiting, 503, "not open yet")
        assert waiting.headers["retry-after"] == "1"
        gate.set()
        app.state.opener.wait(30)
        deadline = time.monotonic() + 60  # and the engine processes start
        while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            assert ready.json()["status"] == "starting"
            time.sleep(0.2)
        assert ready.status_code == 200
        assert client.get("/v1/archive/stats").json()["documents"] == 0


# --- the command ---------------------------------------------------------------------------

def test_serve_refuses_bad_options_in_one_line(tmp_path):
    empty = tmp_path / "empty-token"
    empty.write_text("\n")
    for args, words in ((["--token-file", str(tmp_path / "missing")], "cannot read the token"),
                        (["--token-file", str(empty)], "token file is empty"),
                        (["--port", "70000"], "--port"),
                        (["--workers", "0"], "--workers")):
        proc = subprocess.run([*dedup_command(), "serve", "--isolated", *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60)
        assert proc.returncode == 2, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("dedup") and words in last and "Traceback" not in proc.stderr


def test_two_workers_share_one_index(tmp_path):
    with dedup_server(tmp_path / "two", "--workers", "2") as (url, log):
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.put("/v1/archive/w", json={"text": PUBLISHED}, headers=AUTH).status_code == 200
            for _ in range(20):  # new connections: the kernel spreads them over both workers
                with httpx.Client(base_url=url, timeout=30) as fresh:
                    report = check(fresh, text=REWORDED)
                assert [f["match"]["doc"] for f in report["findings"]] == ["w"]
    text = log.read_text(encoding="utf-8")
    assert text.count("Started server process") == 2 and "Traceback" not in text


def test_connections_get_tcp_nodelay():
    """uvicorn --workers N leaves Nagle's algorithm on (its listening socket has proto 0), so
    each response would wait for the client's delayed ACK; the protocol turns it off first thing."""
    import socket

    from uvicorn.protocols.http.h11_impl import H11Protocol

    from dedup.service import nodelay

    class Transport:
        def __init__(self, sock):
            self.sock = sock

        def get_extra_info(self, name, default=None):
            return self.sock if name == "socket" else default

    cls = nodelay.protocol_class()
    assert issubclass(cls, H11Protocol) or cls.__name__ == "NoDelayHttpToolsProtocol"
    assert "connection_made" in vars(cls)
    with socket.socket() as listener, socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0) as client:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client.connect(listener.getsockname())
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            nodelay._no_delay(Transport(accepted))
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_redis_index_serves_two_workers(tmp_path, redis_url):
    """The shared backend: two workers on one Redis index (a prefix of this test's own)."""
    location = f"{redis_url}?prefix=serve-test-{tmp_path.name}"
    with dedup_server(tmp_path / "redis", "--workers", "2", index=location) as (url, log):
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/readyz").json()["index"] == location
            assert client.put("/v1/archive/r/1", json={"text": PUBLISHED}, headers=AUTH).json()["passages"] == 3
            assert client.get("/v1/archive/stats").json()["backend"] == "redis"
            for _ in range(6):
                with httpx.Client(base_url=url, timeout=30) as fresh:
                    (finding,) = [f for f in check(fresh, text=REWORDED)["findings"] if f["scope"] == "archive"]
                assert finding["match"]["doc"] == "r/1"
            assert client.delete("/v1/archive/r/1", headers=AUTH).status_code == 204
            assert client.get("/v1/archive/stats").json()["documents"] == 0
    assert "Traceback" not in log.read_text(encoding="utf-8")
