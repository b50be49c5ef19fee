"""`leadhub plugin new NAME`: a working, tested plugin package (channel, transport or transforms) to start from."""

from __future__ import annotations

import re
from pathlib import Path

FILES = Path(__file__).parent / "scaffold_files"
KINDS = ("channel", "transport", "transforms")


def names(name: str) -> dict[str, str]:
    """pyproject, package, channel and class names derived from one NAME ("slack-webhook")."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        raise ValueError(f"NAME must start with a letter, e.g. 'slack-webhook' (got {name!r})")
    return {"slug": slug, "dist": f"leadhub-{slug.replace('_', '-')}", "package": f"leadhub_{slug}",
            "klass": "".join(part.title() for part in slug.split("_")),
            "title": slug.replace("_", " ").title()}


def scaffold(name: str, target: Path, kind: str = "channel") -> list[Path]:
    """Write the package into ``target`` (which must not exist yet); returns the files written."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    values = names(name)
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    written = []
    for template in sorted((FILES / kind).rglob("*.tmpl")):
        relative = template.relative_to(FILES / kind).with_suffix("")
        path = target / str(relative).replace("PACKAGE", values["package"])
        path.parent.mkdir(parents=True, exist_ok=True)
        text = template.read_text()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        path.write_text(text)
        written.append(path)
    return written
