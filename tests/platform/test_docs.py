"""The interactive docs work without the Internet: /api/v1/docs loads Swagger UI from this server, not a CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.factories import API


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def asset_urls(page: str) -> list[str]:
    parser = _Assets()
    parser.feed(page)
    return parser.urls


def test_the_docs_page_loads_only_local_assets_and_they_answer_without_a_token(anonymous):
    page = anonymous.get(f"{API}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)

    urls = asset_urls(html)

    assert len(urls) >= 3, urls  # the stylesheet and the two scripts
    assert not re.search(r"https?://|//cdn", html), "the page names another host"
    kinds = set()
    for url in urls:
        assert url.startswith(f"{API}/docs/static/"), url
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert response.mimetype in ("text/javascript", "application/javascript", "text/css"), (url, response.mimetype)
        assert len(response.get_data()) > 1000, url
        kinds.add("css" if response.mimetype == "text/css" else "js")
    assert kinds == {"css", "js"}


def test_the_bundled_swagger_ui_renders_the_openapi_version_we_serve(anonymous):
    openapi = anonymous.get(f"{API}/openapi.json").get_json()["openapi"]
    shipped = anonymous.get(f"{API}/docs/static/VERSION").get_data(as_text=True).strip()

    major = int(shipped.lstrip("v").split(".")[0])

    assert openapi.startswith("3.1")
    assert major >= 5, f"Swagger UI {shipped} cannot render OpenAPI {openapi} (3.1 came with Swagger UI 5)"


def test_an_unknown_asset_is_a_404_problem_and_no_path_leaves_the_asset_folder(anonymous):
    for path in ("no-such-file.js", "../__init__.py", "..%2F__init__.py", "%2e%2e/flask_swagger_ui.py"):
        response = anonymous.get(f"{API}/docs/static/{path}")

        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
