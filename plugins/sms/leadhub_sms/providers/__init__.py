"""SMS providers: small classes found through the ``leadhub_sms_providers`` entry-point group."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from leadhub_sms.providers.base import SmsProvider

log = logging.getLogger("leadhub.sms")
GROUP = "leadhub_sms_providers"


def load_providers() -> dict[str, SmsProvider]:
    """Every installed provider by name; a broken one is logged and skipped, never fatal."""
    found: dict[str, SmsProvider] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
            provider = cls()
            tag = provider.Config.__struct_config__.tag
        except Exception as exc:  # noqa: BLE001 - one bad provider must not take SMS down
            log.warning("SMS provider %s (%s) skipped: %s: %s", ep.name, ep.value, type(exc).__name__, exc)
            continue
        if tag != provider.name or provider.name in found:
            log.warning("SMS provider %s skipped: its Config tag %r must equal its unique name", ep.name, tag)
            continue
        found[provider.name] = provider
    return found
