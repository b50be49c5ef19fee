"""The ``directory`` export transport: put files in a local or mounted folder (a default plugin)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import msgspec

from hub.plugins.contract import CheckResult, ExportContext, ExportTransport, Outcome, TransportResult
from hub.plugins.hookspecs import hookimpl


class DirectoryConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Copy each export file into a folder on this machine (e.g. a mounted share)."""

    path: Annotated[str, msgspec.Meta(title="Folder", description="An absolute path the hub can write to")]


class DirectoryTransport(ExportTransport):
    name = "directory"
    title = "Local folder"
    Config = DirectoryConfig

    def check(self, config: DirectoryConfig) -> CheckResult:
        folder = Path(config.path)
        if not folder.is_dir():
            return CheckResult(ok=False, message=f"{folder} is not a folder")
        if not os.access(folder, os.W_OK):
            return CheckResult(ok=False, message=f"the hub cannot write to {folder}")
        return CheckResult(ok=True, message=f"{folder} is writable")

    def send(self, ctx: ExportContext) -> TransportResult:
        folder = Path(ctx.config.path)
        if not folder.is_dir():
            return TransportResult(outcome=Outcome.FAILED, message=f"{folder} is not a folder (not mounted?)")
        target = folder / ctx.filename
        partial = folder / f".{ctx.filename}.part"
        try:
            shutil.copyfile(ctx.path, partial)
            os.replace(partial, target)  # readers never see a half-written file
        except OSError as exc:
            partial.unlink(missing_ok=True)
            return TransportResult(outcome=Outcome.FAILED, message=f"cannot write {target}: {exc.strerror}")
        return TransportResult(outcome=Outcome.ACCEPTED, location=str(target))


@hookimpl
def leadhub_export_transports() -> list[type]:
    return [DirectoryTransport]
