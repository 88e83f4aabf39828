"""The synthetic organisation: deterministic, realistic in shape, its communities findable,
its files readable by the standard readers and by Kith's own roster import."""

from __future__ import annotations

import csv
import json
import mailbox
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from email.utils import getaddresses
from pathlib import Path

import igraph as ig
import numpy as np
import pytest
from tests.conftest import Factory
from typer.testing import CliRunner, Result

from kith.actions.roster import Directory, chart_errors, check_import_roster, parse_roster
from kith.app import App
from kith.cli.main import cli
from kith.domain.hours import is_working, parse_clock, parse_days
from kith.domain.interactions import BROADCAST_RECIPIENTS
from kith.domain.models import WorkingHours
from kith.simulate.org import KIND_CODES, KIND_NAMES, SimulatedOrg, simulate_org

COLUMNS = ("source", "target", "at", "kind", "weight", "context")
MESSAGE_COLUMNS = ("message_author", "message_at", "message_parent", "message_channel", "dm_pairs")


@pytest.fixture(scope="module")
def org() -> SimulatedOrg:
    return simulate_org(people=600, days=90, seed=1)


def same(a: SimulatedOrg, b: SimulatedOrg) -> bool:
    arrays = all(np.array_equal(getattr(a, c), getattr(b, c)) for c in COLUMNS + MESSAGE_COLUMNS)
    return arrays and a.people == b.people and a.communities == b.communities and a.truth() == b.truth()


def test_same_seed_same_organisation_another_seed_another() -> None:
    first = simulate_org(people=150, days=14, seed=5)
    assert same(first, simulate_org(people=150, days=14, seed=5))
    other = simulate_org(people=150, days=14, seed=6)
    assert not same(first, other)
    assert [p.email for p in first.people] != [p.email for p in other.people]


def test_people_offices_and_departments(org: SimulatedOrg) -> None:
    assert len(org.people) == 600
    emails = [p.email for p in org.people]
    assert len(set(emails)) == 600
    assert all(e.endswith("@kith-demo.example") and e.isascii() for e in emails)
    assert len({p.timezone for p in org.people}) >= 8
    assert len({p.country for p in org.people}) >= 8
    assert len({p.department for p in org.people}) >= 8
    assert {p.work_days for p in org.people} >= {"mon-fri", "sun-thu"}
    # Every person's hours read back as the roster would read them.
    for p in org.people:
        assert parse_clock(p.work_start) < parse_clock(p.work_end)
        parse_days(p.work_days)


def test_the_dispersed_customer_facing_community(org: SimulatedOrg) -> None:
    voices = org.communities[org.customer_facing]
    assert voices.kind == "customer-facing"
    members = [org.people[i] for i in voices.members]
    assert 90 <= len(members) <= 110
    assert len({p.country for p in members}) >= 8
    assert len({p.department for p in members}) >= 3
    assert all(p.community == voices.id for p in members)


def test_communities_partition_everyone_and_cut_across_the_chart(org: SimulatedOrg) -> None:
    members = sorted(i for c in org.communities for i in c.members)
    assert members == list(range(len(org.people)))
    kinds = Counter(c.kind for c in org.communities)
    assert kinds["customer-facing"] == 1
    assert kinds["practice"] + kinds["project"] + kinds["social"] >= 10
    crossing = [c for c in org.communities if len({org.people[i].department for i in c.members}) >= 3]
    assert len(crossing) >= len(org.communities) // 2
    assert sum(p.secondary is not None for p in org.people) > 0.15 * len(org.people)


def test_one_management_tree(org: SimulatedOrg) -> None:
    boss = {p.email: p.manager_email for p in org.people}
    roots = [e for e, m in boss.items() if m is None]
    assert len(roots) == 1
    assert all(m in boss for m in boss.values() if m is not None)
    for email in boss:
        seen = set()
        while email is not None:
            assert email not in seen, f"a cycle through {email}"
            seen.add(email)
            email = boss[email]
    assert sum(p.team is not None for p in org.people) > 0.9 * len(org.people)


def test_columns_line_up_in_time_order(org: SimulatedOrg) -> None:
    n = len(org)
    assert all(getattr(org, c).shape == (n,) for c in COLUMNS)
    assert np.all(np.diff(org.at) >= 0)
    assert org.at.min() >= org.start.timestamp()
    assert org.at.max() < org.end.timestamp()
    assert np.all(org.source != org.target)
    assert set(np.unique(org.kind).tolist()) == set(range(len(KIND_NAMES)))
    # Every interaction belongs to a message at or before it; answers come after what they answer.
    assert np.all(org.message_at[org.context] <= org.at)
    answers = np.flatnonzero(org.message_parent >= 0)
    assert np.all(org.message_at[org.message_parent[answers]] <= org.message_at[answers])
    reply = org.kind == KIND_CODES["reply"]
    assert np.all(org.message_parent[org.context[reply]] >= 0)


def test_times_follow_working_hours(org: SimulatedOrg) -> None:
    hours = [
        WorkingHours(parse_clock(p.work_start), parse_clock(p.work_end), parse_days(p.work_days))
        for p in org.people
    ]
    sample = np.random.default_rng(0).choice(len(org), 5000, replace=False)
    working = [
        is_working(
            hours[org.source[i]],
            org.people[org.source[i]].timezone,
            datetime.fromtimestamp(int(org.at[i]), UTC),
        )
        for i in sample
    ]
    share = sum(working) / len(working)
    assert 0.9 <= share < 1.0  # the large majority, and a few out of hours


def test_broadcasts_weigh_one_over_their_recipients(org: SimulatedOrg) -> None:
    assert org.broadcasts() >= 10
    shared = org.weight < 1.0
    for message in np.unique(org.context[shared])[:20]:
        ties = (org.context == message) & (org.kind == KIND_CODES["mail"])
        recipients = int(ties.sum())
        assert recipients > BROADCAST_RECIPIENTS
        assert np.allclose(org.weight[ties], 1.0 / recipients)
    assert np.all(org.weight[~shared] == 1.0)


def test_planted_communities_are_the_structure_of_the_graph(org: SimulatedOrg) -> None:
    n = len(org.people)
    truth = [p.community for p in org.people]
    low = np.minimum(org.source, org.target).astype(np.int64)
    high = np.maximum(org.source, org.target).astype(np.int64)
    pairs, which = np.unique(low * n + high, return_inverse=True)
    weight = np.bincount(which, weights=org.weight)
    graph = ig.Graph(n=n, edges=np.column_stack([pairs // n, pairs % n]).tolist())
    graph.es["weight"] = weight.tolist()
    found = graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    assert ig.compare_communities(truth, found.membership, method="nmi") >= 0.9
    # Not trivially easy: a fair share of everyone's weight leaves their community.
    group = np.array(truth)
    outside = group[pairs // n] != group[pairs % n]
    strength = np.bincount(pairs // n, weight, n) + np.bincount(pairs % n, weight, n)
    leaving = np.bincount(pairs // n, weight * outside, n) + np.bincount(pairs % n, weight * outside, n)
    assert 0.15 <= float(np.mean(leaving / strength)) <= 0.35


def test_records_match_the_columns() -> None:
    small = simulate_org(people=60, days=7, seed=2)
    records = list(small.records())
    assert len(records) == len(small)
    for i in (0, len(records) // 2, len(records) - 1):
        r = records[i]
        assert r.source == small.people[small.source[i]].email
        assert r.target == small.people[small.target[i]].email
        assert r.kind == KIND_NAMES[small.kind[i]]
        assert r.at == datetime.fromtimestamp(int(small.at[i]), UTC)
    mail = [r for r in records if r.origin == "email"]
    chat = [r for r in records if r.origin == "slack"]
    assert mail
    assert chat
    assert all(r.context.startswith("<") and r.context.endswith("@kith-demo.example>") for r in mail)
    assert all(r.context[0] in "CD" and ":" in r.context for r in chat)
    assert {r.kind for r in mail} == {"mail", "reply"}
    assert {r.kind for r in chat} == {"chat", "reply", "mention", "reaction"}


def test_ten_thousand_people_two_million_interactions() -> None:
    big = simulate_org(people=10_000, days=90, seed=1)
    assert len(big.people) == 10_000
    assert 1_700_000 <= len(big) <= 2_300_000
    assert big.source.dtype == np.int32
    assert big.at.dtype == np.int64
    assert len({p.email for p in big.people}) == 10_000
    assert np.all(np.diff(big.at) >= 0)


def test_the_smallest_organisation_still_has_its_dispersed_community() -> None:
    tiny = simulate_org(people=50, days=3, seed=9, start=date(2025, 6, 2))
    voices = [tiny.people[i] for i in tiny.communities[tiny.customer_facing].members]
    assert len({p.country for p in voices}) >= 8
    assert len({p.department for p in voices}) >= 3
    assert tiny.start == datetime(2025, 6, 2, tzinfo=UTC)


def test_the_generator_stands_alone() -> None:
    """The demo, tests and benchmarks import it without storage, actions or the API."""
    code = (
        "import sys, kith.simulate.org, kith.simulate.files; "
        "print(sorted(m for m in sys.modules if m.startswith(('kith.actions', 'kith.storage', 'kith.api'))))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_bad_arguments_raise() -> None:
    for people, days in ((49, 90), (50_001, 90), (600, 0), (600, 367)):
        with pytest.raises(ValueError, match="must be between"):
            simulate_org(people=people, days=days)


# The command and its files


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["simulate", *args])


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result, SimulatedOrg]:
    out = tmp_path_factory.mktemp("simulated")
    result = run("--people", "80", "--days", "10", "--seed", "3", "--out", str(out))
    return out, result, simulate_org(people=80, days=10, seed=3)


def test_simulate_prints_a_summary(written: tuple[Path, Result, SimulatedOrg]) -> None:
    out, result, org = written
    assert result.exit_code == 0, result.output
    assert "80 people" in result.output
    assert "Customer Voices" in result.output
    assert f"{len(org):,} interactions" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "chat",
        "edges.csv",
        "mail.mbox",
        "roster.csv",
        "truth.json",
    ]


def test_roster_parses_and_imports(written: tuple[Path, Result, SimulatedOrg], sqlite_app: App) -> None:
    out, _, org = written
    data = (out / "roster.csv").read_bytes()
    parsed = parse_roster(data)
    assert parsed.errors == ()
    assert chart_errors(parsed, Directory({}, {})) == []
    assert len(parsed.rows) == len(org.people)
    result = check_import_roster(sqlite_app, Factory(sqlite_app).admin.viewer, data)
    assert result.created == len(org.people)


def test_mbox_holds_every_mail(written: tuple[Path, Result, SimulatedOrg]) -> None:
    out, _, org = written
    box = mailbox.mbox(str(out / "mail.mbox"))
    mail = ~org.is_chat()
    assert len(box) == len(np.unique(org.context[mail]))
    emails = [p.email for p in org.people]
    pairs = Counter()
    for message in box:
        assert not message.get_payload().strip() or message.get_payload().strip() == "[content omitted]"
        sender = getaddresses([message["From"]])[0][1]
        for _, to in getaddresses(message.get_all("To", []) + message.get_all("Cc", [])):
            pairs[sender, to, "reply" if message["In-Reply-To"] else "mail"] += 1
        assert message["Message-ID"]
        assert message["Date"]
    expected = Counter(
        (emails[s], emails[t], KIND_NAMES[k])
        for s, t, k in zip(org.source[mail], org.target[mail], org.kind[mail], strict=True)
    )
    assert pairs == expected


def test_chat_export_loads(written: tuple[Path, Result, SimulatedOrg]) -> None:
    out, _, org = written
    chat = out / "chat"
    users = json.loads((chat / "users.json").read_text())
    assert sorted(u["profile"]["email"] for u in users) == sorted(p.email for p in org.people)
    channels = json.loads((chat / "channels.json").read_text())
    dms = json.loads((chat / "dms.json").read_text())
    names = [c["name"] for c in channels]
    assert set(names) >= {"general", "announcements", "customer-voices", "leadership-team"}
    assert len(set(names)) == len(names)
    assert all(name and name == name.lower() and " " not in name for name in names)
    kinds: Counter[str] = Counter()
    for folder in [c["name"] for c in channels] + [d["id"] for d in dms]:
        for day in sorted((chat / folder).glob("*.json")):
            for m in json.loads(day.read_text()):
                assert f"{datetime.fromtimestamp(float(m['ts']), UTC):%Y-%m-%d}" == day.stem
                kinds["mention"] += m["text"].count("<@U")
                kinds["reaction"] += sum(r["count"] for r in m.get("reactions", []))
                answer = m.get("thread_ts", m["ts"]) != m["ts"]
                kinds["reply" if answer else "chat" if folder.startswith("D") else "post"] += 1
    counts = Counter(KIND_NAMES[k] for k in org.kind[org.is_chat()])
    assert kinds["mention"] == counts["mention"]
    assert kinds["reaction"] == counts["reaction"]
    assert kinds["reply"] == counts["reply"]
    assert kinds["chat"] == counts["chat"]


def test_edges_and_truth(written: tuple[Path, Result, SimulatedOrg]) -> None:
    out, _, org = written
    with (out / "edges.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(org)
    assert list(rows[0]) == ["source", "target", "timestamp", "kind", "weight"]
    first = rows[0]
    assert first["source"] == org.people[org.source[0]].email
    assert datetime.fromisoformat(first["timestamp"]) == datetime.fromtimestamp(int(org.at[0]), UTC)
    truth = json.loads((out / "truth.json").read_text())
    assert truth == json.loads(json.dumps(org.truth()))
    assert truth["community_of"][org.people[0].email] == org.people[0].community


def test_simulate_twice_into_the_same_directory(written: tuple[Path, Result, SimulatedOrg]) -> None:
    out, _, _ = written
    before = (out / "edges.csv").read_bytes()
    again = run("--people", "80", "--days", "10", "--seed", "3", "--out", str(out))
    assert again.exit_code == 0, again.output
    assert (out / "edges.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--people", "10"), "--people must be between 50 and 50,000"),
        (("--people", "60000"), "--people must be between"),
        (("--days", "0"), "--days must be between 1 and 366"),
        (("--start", "2025-02-30"), "--start"),
    ],
)
def test_bad_arguments_are_one_line(args: tuple[str, ...], needle: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: ")
    assert needle in result.stderr
    assert "\n" not in result.stderr.strip()


def test_out_must_be_a_new_or_earlier_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    for out in (tmp_path / "notes.txt", tmp_path):
        result = run("--people", "50", "--days", "1", "--out", str(out))
        assert result.exit_code == 1
        assert "--out" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert run("--people", "many").exit_code == 2  # not a number: the usual usage error
