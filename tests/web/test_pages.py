"""The server-rendered pages: access, labels, CSP hygiene."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import browser_login, client_for, register

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "draftsmith" / "web" / "templates"
STATIC = TEMPLATES.parent / "static"

PAGES = [
    "/dashboard",
    "/dashboard/documents",
    "/dashboard/generate",
    "/dashboard/blogs",
    "/dashboard/blogs/some-blog-id",
    "/dashboard/account",
]
#: The only classic scripts: theme.js must block the first paint (a module is deferred), and
#: Swagger UI's vendored bundle defines the global its module, docs.js, calls.
CLASSIC_SCRIPTS = {"/static/theme.js", "/static/swagger/swagger-ui-bundle.js"}
JS_TYPES = {"text/javascript", "application/javascript"}
NAV = {
    "Dashboard": "/dashboard",
    "Documents": "/dashboard/documents",
    "Generate": "/dashboard/generate",
    "Blogs": "/dashboard/blogs",
    "Account": "/dashboard/account",
}


class Page(HTMLParser):
    """Collects what the checks need: controls, labels, scripts, buttons, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.scripts: list[dict] = []
        self.buttons: list[dict] = []
        self.links: list[dict] = []
        self._open: list[dict] = []
        self.attributes: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attributes.append((tag, a))
        if tag in ("input", "textarea", "select"):
            self.controls.append({"tag": tag, **a})
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        elif tag == "script":
            self.scripts.append(a)
        if tag in ("button", "a"):
            entry = {"tag": tag, "attrs": a, "text": ""}
            (self.buttons if tag == "button" else self.links).append(entry)
            self._open.append(entry)

    def handle_endtag(self, tag):
        if tag in ("button", "a") and self._open:
            self._open.pop()

    def handle_data(self, data):
        for entry in self._open:
            entry["text"] += data


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.fixture
async def browser(app):
    async with client_for(app) as c:
        await register(c)
    return await browser_login(app)


@pytest.mark.parametrize("path", PAGES)
async def test_each_page_renders_for_a_signed_in_user(browser, path):
    response = await browser.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "no-store" in response.headers.get("cache-control", "")
    page = parse(response.text)
    # the main navigation, with exactly one current entry
    current = [link for link in page.links if link["attrs"].get("aria-current") == "page"]
    assert len(current) == 1
    expected = "/dashboard/blogs" if path.startswith("/dashboard/blogs") else path
    assert current[0]["attrs"]["href"] == expected
    hrefs = {link["text"].strip(): link["attrs"].get("href") for link in page.links}
    for label, href in NAV.items():
        assert hrefs.get(label) == href
    assert any(b["text"].strip() == "Sign out" for b in page.buttons)
    assert "eyJ" not in response.text  # no token in the page


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_visit_is_sent_to_sign_in(app, path):
    async with client_for(app) as anonymous:
        response = await anonymous.get(path + "?x=1")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert response.headers["location"].endswith("%3Fx%3D1")


@pytest.mark.parametrize("path", [*PAGES, "/login", "/register"])
async def test_every_control_is_labelled_and_every_script_has_the_nonce(browser, app, path):
    client = browser if path.startswith("/dashboard") else client_for(app)
    response = await client.get(path)
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    page = parse(response.text)
    for control in page.controls:
        if control.get("type") == "hidden":
            continue
        labelled = (
            control.get("id") in page.label_for
            or control.get("aria-label")
            or control.get("aria-labelledby")
        )
        assert labelled, f"{path}: unlabelled {control}"
    for script in page.scripts:
        assert script.get("nonce") == nonce, f"{path}: script without the nonce {script}"
        assert script.get("src", "").startswith("/static/"), (
            f"{path}: inline or foreign script {script}"
        )
        if script["src"] not in CLASSIC_SCRIPTS:
            assert script.get("type") == "module", f"{path}: page script is not a module {script}"
    for button in page.buttons:
        assert button["text"].strip() or button["attrs"].get("aria-label"), (
            f"{path}: unnamed button {button}"
        )
    for tag, attrs in page.attributes:
        assert "style" not in attrs, f"{path}: inline style on <{tag}>"
        assert not any(name.startswith("on") for name in attrs), (
            f"{path}: inline handler on <{tag}>"
        )
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), f"{path}: foreign asset {value}"


def test_templates_have_no_inline_handlers_styles_or_scripts():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), (
            f"{template.name}: inline event handler"
        )
        assert not re.search(r"\sstyle\s*=", text, re.I), f"{template.name}: inline style attribute"
        assert "<style" not in text, f"{template.name}: <style> block"
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert 'nonce="{{ csp_nonce }}"' in tag, f"{template.name}: {tag}"
            assert 'src="/static/' in tag, f"{template.name}: inline script {tag}"


def test_page_scripts_call_the_api_only_through_the_helper():
    for script in STATIC.glob("*.js"):
        if script.name in ("api.js", "docs.js"):
            continue
        text = script.read_text()
        assert "fetch(" not in text, f"{script.name} calls fetch directly; use api.js"
        assert "XMLHttpRequest" not in text, f"{script.name} uses XHR directly; use api.upload"
        assert "localStorage" not in text or script.name in ("app.js", "theme.js"), script.name
        assert ".innerHTML" not in text or script.name == "editor.js", f"{script.name} injects HTML"
        assert "Authorization" not in text and "access_token" not in text, script.name


def test_only_the_editor_injects_html_and_only_the_servers_sanitised_html():
    text = (STATIC / "editor.js").read_text()
    assignments = re.findall(r"\.innerHTML\s*=\s*([^;]+);", text)
    assert assignments, "the editor shows the server's html"
    for value in assignments:
        assert "html" in value and "markdown" not in value, value


async def test_the_editor_page_escapes_its_id(browser):
    response = await browser.get('/dashboard/blogs/"><img src=x onerror=alert(1)>')
    assert response.status_code == 200
    assert "<img src=x" not in response.text


async def test_register_shows_errors_and_keeps_the_input(app):
    browser = client_for(app, headers={"Origin": "http://testserver"})
    await browser.get("/register")
    response = await browser.post(
        "/register",
        data={
            "email": "neo@example.com",
            "password": "short",
            "display_name": "Neo",
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert response.status_code == 422
    page = parse(response.text)
    assert 'role="alert"' in response.text
    values = {c.get("id"): c.get("value") for c in page.controls}
    assert values["email"] == "neo@example.com" and values["display_name"] == "Neo"
    taken = await browser.post(
        "/register",
        data={
            "email": "neo@example.com",
            "password": "a sturdy test passphrase",
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert taken.status_code == 303
    again = client_for(app, headers={"Origin": "http://testserver"})
    await again.get("/register")
    response = await again.post(
        "/register",
        data={
            "email": "neo@example.com",
            "password": "a sturdy test passphrase",
            "csrf_token": again.cookies["ds_csrf"],
        },
    )
    assert response.status_code == 409
    assert 'class="alert alert-error"' in response.text


@pytest.fixture
def settings_overrides(request):
    if "rate_limit" in request.node.name:
        return {"login_limit_account": "2/minute"}
    return {}


async def test_sign_in_rate_limit_is_shown_clearly(app):
    async with client_for(app) as c:
        await register(c)
    browser = client_for(app, headers={"Origin": "http://testserver"})
    await browser.get("/login")
    for _ in range(2):
        wrong = await browser.post(
            "/login",
            data={
                "email": "ada@example.com",
                "password": "wrong password!",
                "csrf_token": browser.cookies["ds_csrf"],
            },
        )
        assert wrong.status_code == 401
    limited = await browser.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": "wrong password!",
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Please wait a moment" in limited.text and "Try again in" in limited.text
    assert 'class="alert alert-warning"' in limited.text
    values = {c.get("id"): c.get("value") for c in parse(limited.text).controls}
    assert values["email"] == "ada@example.com"


async def test_static_assets_are_served_locally(app):
    async with client_for(app) as c:
        for script in STATIC.glob("*.js"):
            response = await c.get(f"/static/{script.name}")
            assert response.status_code == 200, script.name
            # a module with another type is refused by the browser (X-Content-Type-Options: nosniff)
            assert response.headers["content-type"].split(";")[0] in JS_TYPES, (
                script.name,
                response.headers,
            )
        response = await c.get("/static/app.css")
        assert response.status_code == 200
        css = (await c.get("/static/app.css")).text
        assert "@import" not in css and "url(http" not in css


# ---- browser code as ES modules ---------------------------------------------------------------

IMPORT_RE = re.compile(r'^import \{([^}]*)\} from "([^"]+)";$', re.M)
EXPORT_RE = re.compile(r"^export (?:async )?(?:function|const|class) (\w+)", re.M)


def _script_tags() -> list[tuple[str, str]]:
    return [
        (t.name, tag)
        for t in TEMPLATES.glob("*.html")
        for tag in re.findall(r"<script\b[^>]*>", t.read_text())
    ]


def test_every_page_script_is_a_module():
    tags = _script_tags()
    assert tags
    for template, tag in tags:
        src = re.search(r'src="([^"]+)"', tag).group(1)
        if src in CLASSIC_SCRIPTS:
            assert 'type="module"' not in tag, f"{template}: {src} must stay classic"
        else:
            assert 'type="module"' in tag, f"{template}: {tag} is not loaded as a module"


def test_no_script_uses_window_as_a_module_registry():
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        # window.<name> = … (or globalThis/self) shares code through globals; modules import instead
        assigned = re.findall(r"\b(?:window|globalThis|self)\.(\w+)\s*=(?!=)", text)
        assert not assigned, (
            f"{script.name} assigns window.{assigned}: export it from a module instead"
        )
        for name in ("api", "ui", "generation"):
            assert f"window.{name}" not in text, (
                f"{script.name} reads window.{name}: import it instead"
            )
        if f"/static/{script.name}" in CLASSIC_SCRIPTS:
            assert "import " not in text and "export " not in text, script.name
        else:
            assert '"use strict"' not in text and "(function ()" not in text, (
                f"{script.name}: a module needs no IIFE"
            )


def test_module_imports_resolve_to_real_exports():
    exports = {s.name: set(EXPORT_RE.findall(s.read_text())) for s in STATIC.glob("*.js")}
    loaded = {
        re.search(r'src="/static/([^"]+)"', tag).group(1) for _, tag in _script_tags()
    } & exports.keys()
    imported: set[str] = set()
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        assert not re.search(r"^\s*import\s+(?!\{)", text, re.M), (
            f"{script.name}: use named imports"
        )
        for names, source in IMPORT_RE.findall(text):
            assert source.startswith("./") and source.endswith(".js"), (
                f"{script.name}: import from {source}"
            )
            target = source[2:]
            assert target in exports, f"{script.name} imports a missing file {source}"
            imported.add(target)
            for name in (n.strip().split(" as ")[0] for n in names.split(",")):
                assert name in exports[target], (
                    f"{script.name} imports {name}, which {target} does not export"
                )
    # every script is used: loaded by a page or imported by one
    assert set(exports) == loaded | imported, set(exports) - (loaded | imported)
