"""Export transports ``ftp``, ``ftps`` and ``sftp``: upload under a temporary name, then rename."""

from __future__ import annotations

from hub.plugins.hookspecs import hookimpl
from leadhub_ftp.ftp import FtpsTransport, FtpTransport
from leadhub_ftp.sftp import SftpTransport

LEADHUB_PLUGIN_API = ">=1,<2"


@hookimpl
def leadhub_export_transports() -> list[type]:
    return [FtpTransport, FtpsTransport, SftpTransport]
