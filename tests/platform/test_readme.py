"""The README's examples work: each curl command of its ```sh blocks, run on the demo county through the test
client as every demo account its `[roles]` comment names, answers 2xx (or the `# -> NNN` status written under it).

A write named for several accounts runs once, as the one with the least power (officer < viewer < leader <
admin): a second run of the same handover would be a 409, and an administrator may do whatever a leader may.

A day written as the shell computes it, `$(date +%F)` or `$(date -d '+15 days' +%F)` (deadlines lie today or later),
is the county's day, today or that many days ahead.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from models.base import county_today
from models.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_county
from models.files import file_store

README = Path(__file__).resolve().parents[2] / "README.md"
# Docs whose examples run too, after the README's, on the same county (each names its accounts the same way)
DOCS = [
    Path(__file__).resolve().parents[2] / "docs" / name
    for name in ("enterprises.md", "hazards.md", "patrols.md", "duty.md")
]
BASE = "http://127.0.0.1:5000"
ACCOUNTS = ("officer", "dept", "viewer", "leader", "admin")  # least power first
_TAG = re.compile(r"#.*\[((?:admin|leader|officer|viewer|dept)(?: (?:admin|leader|officer|viewer|dept))*)\]")
_DAY = re.compile(r"\$\(date(?: -d '\+(\d+) days')? \+%F\)")


def _days(command: str) -> str:
    """The command with each `$(date [-d '+N days'] +%F)` replaced by the day the shell would put there."""
    return _DAY.sub(lambda m: (county_today() + timedelta(days=int(m.group(1) or 0))).isoformat(), command)


@dataclass
class Example:
    line: int
    command: str
    roles: tuple[str, ...]
    method: str = "GET"
    path: str = ""
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    expect: int | None = None  # None: any 2xx
    source: str = "README.md"

    def __str__(self) -> str:
        return f"{self.source}:{self.line} {self.method} {self.path}"


def _parse(example: Example) -> Example:
    words = shlex.split(_days(example.command).replace("\\\n", " "), comments=True)
    data: list[str] = []
    as_query = False
    method = None
    it = iter(words[1:])
    for word in it:
        if word == "-X":
            method = next(it)
        elif word == "-H":
            header = next(it)
            if header != "$AUTH":
                name, _, value = header.partition(":")
                example.headers[name.strip()] = value.strip()
        elif word in ("-d", "--data", "--data-urlencode"):
            data.append(next(it))
        elif word == "-G":
            as_query = True
        elif word in ("-o", "--output"):
            next(it)  # a file the answer is written to
        elif word.startswith(BASE):
            url = urlsplit(word)
            example.path, example.query = url.path, parse_qsl(url.query)
        elif not word.startswith("-"):
            raise AssertionError(f"README.md:{example.line}: cannot read {word!r} in {example.command!r}")
    if as_query:
        example.query += [tuple(item.split("=", 1)) for item in data]  # type: ignore[misc]
    elif data:
        example.body = "".join(data)
    example.method = method or ("POST" if example.body is not None else "GET")
    return example


def readme_examples(text: str | None = None, source: str = "README.md") -> list[Example]:
    """The curl commands with `-H "$AUTH"` of the README's sh blocks, with the roles named above them."""
    lines = (text if text is not None else README.read_text()).splitlines()
    found: list[Example] = []
    in_sh, roles, i = False, (), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_sh, roles = line.strip() == "```sh", ()
        elif in_sh and line.lstrip().startswith("#") and (tag := _TAG.search(line)):
            roles = tuple(tag.group(1).split())
        elif in_sh and line.lstrip().startswith("curl ") and '"$AUTH"' in line:
            start, command = i, line
            while command.endswith("\\") or _unclosed(command):
                i += 1
                command += "\n" + lines[i]
            example = _parse(Example(line=start + 1, command=command, roles=roles, source=source))
            expected = re.match(r"\s*# -> (\d{3})\b", lines[i + 1]) if i + 1 < len(lines) else None
            example.expect = int(expected.group(1)) if expected else None
            found.append(example)
        i += 1
    return found


def _unclosed(command: str) -> bool:
    try:
        shlex.split(command.replace("\\\n", " "), comments=True)
    except ValueError:
        return True
    return False


def test_the_parser_reads_a_multi_line_command_with_its_roles_and_status():
    text = "\n".join(
        [
            "```sh",
            "# [admin leader] make it",
            "curl -s -X POST -H \"$AUTH\" http://127.0.0.1:5000/api/v1/things -H 'If-Match: *' \\",
            "     -H 'Content-Type: application/json' -d '{",
            '  "name": "甲 #1"}\'',
            "# -> 201",
            'curl -s -H "$AUTH" -G http://127.0.0.1:5000/api/v1/things --data-urlencode name=村  # a comment',
            "```",
        ]
    )

    make, find = readme_examples(text)

    assert (make.method, make.path, make.roles, make.expect) == ("POST", "/api/v1/things", ("admin", "leader"), 201)
    assert make.headers == {"If-Match": "*", "Content-Type": "application/json"}
    assert make.body == '{\n  "name": "甲 #1"}'
    assert (find.method, find.query, find.roles, find.expect) == ("GET", [("name", "村")], ("admin", "leader"), None)


def test_a_day_the_shell_computes_is_the_countys_day():
    text = "\n".join(
        [
            "```sh",
            "# [leader] a deadline two weeks ahead",
            "curl -s -X POST -H \"$AUTH\" http://127.0.0.1:5000/api/v1/things -H 'Content-Type: application/json' \\",
            '  -d "{\\"deadline\\": \\"$(date -d \'+14 days\' +%F)\\", \\"on\\": \\"$(date +%F)\\"}"',
            "```",
        ]
    )

    (example,) = readme_examples(text, "docs/things.md")

    today = county_today()
    assert example.body == f'{{"deadline": "{today + timedelta(days=14)}", "on": "{today}"}}'
    assert str(example) == "docs/things.md:3 POST /api/v1/things"


def test_every_example_names_its_accounts_and_works_as_admin():
    examples = readme_examples()

    assert len(examples) >= 15
    assert [str(e) for e in examples if not e.roles] == []
    assert [str(e) for e in examples if "admin" not in e.roles] == []
    assert {role for e in examples for role in e.roles} == set(ACCOUNTS)
    assert {username for username, _name, _role in DEMO_ACCOUNTS} == set(ACCOUNTS)


def test_the_readme_examples_work_on_the_demo_county_as_each_account_they_name(app, session):
    # the county of `make run` (photos and all): the README's ids are this county's. Its patrols are a tenth of
    # those: no example names one by its id (their ids are their order of starting), and 3,000 took half a minute
    load_demo_county(session, photos=file_store(app.config["FILE_STORE"]), patrols=300)
    clients = {}
    for username in ACCOUNTS:
        client = app.test_client()
        answer = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {answer.get_json()['access_token']}"
        clients[username] = client

    failures = []
    examples = readme_examples() + [e for doc in DOCS for e in readme_examples(doc.read_text(), f"docs/{doc.name}")]
    for example in examples:
        roles = [r for r in ACCOUNTS if r in example.roles]
        if example.method != "GET":
            roles = roles[:1]
        for role in roles:
            response = clients[role].open(
                example.path,
                method=example.method,
                query_string=example.query,
                headers=example.headers,
                data=example.body.encode() if example.body is not None else None,
            )
            ok = response.status_code == example.expect if example.expect else 200 <= response.status_code < 300
            if not ok:
                failures.append(f"{example} as {role}: {response.status_code} {response.get_data(as_text=True)[:300]}")

    assert failures == []
