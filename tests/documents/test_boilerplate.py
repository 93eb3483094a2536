"""Navigation and boilerplate chunks are marked at ingest and kept out of retrieval."""

from __future__ import annotations

from draftsmith.documents import search
from draftsmith.documents.boilerplate import is_boilerplate, mark_boilerplate
from tests.documents.helpers import upload, wait_done

PROSE = (
    "Ducks have a cosmopolitan distribution, and are found on every continent except "
    "Antarctica. Several species manage to live on subantarctic islands."
)


def test_menus_link_lists_and_apparatus_are_boilerplate():
    menu = "\n".join(["- Home", "- Products", "- Pricing", "- Blog", "- About us", "- Contact"])
    assert is_boilerplate(menu, None)
    links = "[Home](https://a.example/) [Docs](https://a.example/docs) [Blog](https://b.example/)"
    assert is_boilerplate(links, None)
    assert is_boilerplate("## See also\n\n- Domestic duck\n- Duck test", "See also")
    refs = "\n".join(
        f'{i}. ^ "Duck". Retrieved 2015-05-{i:02d}. ISBN 978-0-19-861009-{i}' for i in range(1, 5)
    )
    assert is_boilerplate(refs, "Citations")
    toc = "\n".join(f"Chapter {i} ........................ {i * 7}" for i in range(1, 6))
    assert is_boilerplate(toc, None)
    assert is_boilerplate("© 2024 Example Inc. All rights reserved. Privacy policy", None)


def test_content_is_not_boilerplate():
    assert not is_boilerplate(f"## Distribution\n\n{PROSE}", "Distribution")
    table = "\n".join(["| a | b |", "|---|---|"] + [f"| {i} | x |" for i in range(10)])
    assert not is_boilerplate(table, None)
    code = "```\n" + "\n".join(f"x = {i}" for i in range(10)) + "\n```"
    assert not is_boilerplate(code, None)
    steps = "\n".join(["1. Open", "2. Edit", "3. Save", "4. Close", "5. Quit", "6. Done"])
    assert not is_boilerplate(steps, None, paged=True)  # a PDF's short lines are no menu


def test_running_headers_repeated_on_many_pages():
    header = "Federal Register / Vol. 85, No. 152 / Proposed Rules"
    chunks = [(f"{header} {40 + page}\nPage {page} of 9", None, page) for page in range(1, 6)]
    chunks.append((f"{header} 47\n{PROSE}", None, 6))
    assert mark_boilerplate(chunks) == [True] * 5 + [False]


async def test_boilerplate_chunks_are_not_retrieved(app, user):
    links = "".join(f"- Antarctica duck myth number {i}\n" for i in range(40))
    body = "# Ducks\n\n" + " ".join([PROSE] * 8) + "\n\n## See also\n\n" + links
    doc = (await upload(user, ("ducks.md", body.encode())))["documents"][0]["id"]
    assert (await wait_done(user, doc))["status"] == "ready"
    uid = (await user.get("/api/v1/auth/me")).json()["id"]
    async with app.state.db() as db:
        every = await search.retrieve(db, uid, "antarctica", [doc], k=5, boilerplate=True)
        content = await search.retrieve(db, uid, "antarctica", [doc], k=5)
    assert any(h.heading == "See also" for h in every)
    assert content and all(h.heading != "See also" for h in content)
