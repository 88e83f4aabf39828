"""``kith spaces``: list and create spaces."""

from __future__ import annotations

import typer
from rich.table import Table

from kith.actions import people, spaces
from kith.cli.common import console, fail, friendly, opened
from kith.domain.models import Role, Viewer

app = typer.Typer(help="Spaces.")


@app.command("list")
@friendly
def list_spaces(
    archived: bool = typer.Option(False, "--archived", help="Include archived."),
) -> None:
    """Every space, private ones included."""
    with opened() as kith:
        found = spaces.list_spaces(kith, people.system_viewer(kith), include_archived=archived)
    table = Table("id", "slug", "name", "kind", "visibility", "members", "archived")
    for v in found:
        s = v.space
        table.add_row(
            str(s.id),
            s.slug,
            s.name,
            s.kind.value,
            s.visibility.value,
            str(v.member_count),
            "yes" if s.archived else "",
        )
    console.print(table)


@app.command("create")
@friendly
def create_space(
    name: str = typer.Argument(..., help="The space's name."),
    owner: str = typer.Option(..., "--owner", help="E-mail of its first owner."),
    slug: str = typer.Option(None, help="URL name; made from the name when left out."),
    description: str = typer.Option("", help="What the space is for."),
    kind: str = typer.Option("community", help="community, team or announcements."),
    private: bool = typer.Option(False, "--private", help="Members only."),
) -> None:
    """Create a space owned by --owner."""
    with opened() as kith:
        owner_person = people.find_person_by_email(kith, owner)
        if owner_person is None:
            raise fail(f"--owner: no person with e-mail {owner}")
        viewer = Viewer(owner_person, people.get_role(kith, owner_person.id) or Role.MEMBER)
        view = spaces.check_create_space(
            kith,
            viewer,
            name=name,
            slug=slug,
            description=description,
            kind=kind,
            visibility="private" if private else "public",
        )
    console.print(f"created space {view.space.slug} (id {view.space.id})")
