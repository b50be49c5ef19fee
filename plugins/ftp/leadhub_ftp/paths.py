"""Remote names (pure): the final name, and the temporary one the buyer's scripts will ignore."""

from __future__ import annotations

import posixpath


def remote_paths(directory: str, filename: str, run_id: int) -> tuple[str, str]:
    """(temporary path, final path) in ``directory``; the temporary name starts with a dot and ends in .part."""
    directory = directory or "."
    final = posixpath.join(directory, filename)
    temporary = posixpath.join(directory, f".{filename}.{run_id}.part")
    return temporary, final
