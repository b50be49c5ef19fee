"""The request body exactly as SalesByte's "Create Lead" documents it (pure: no I/O)."""

from __future__ import annotations

from typing import Any

import msgspec

from leadhub_salesbyte.config import SalesByteConfig

PATH = "/integrations/create_brandawareness"
CUSTOMER_FIELDS = ("customer_name", "customer_phone", "customer_email", "customer_company")
CUSTOM_FIELDS = tuple(f"custom_field_{n}_content" for n in range(1, 11))
TAGS = tuple(f"tag_{n}" for n in range(1, 11))
#: The optional per-lead string fields: sent when mapped, null when the mapped value is empty.
OPTIONAL_TEXT = (*CUSTOMER_FIELDS[1:], *CUSTOM_FIELDS, *TAGS, "message")
#: Every field a mapping may fill; anything else is refused when the delivery is saved.
MAPPABLE = ("customer_name", "salesperson_email", *OPTIONAL_TEXT)


def as_text(value: Any) -> str | None:
    """A mapped value as SalesByte's string: trimmed, other types as text, empty as None."""
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int, and "True" is Python's spelling
        text = "true" if value else "false"
    elif isinstance(value, (dict, list, tuple)):
        text = msgspec.json.encode(value).decode()
    else:
        text = str(value)
    # SalesByte (Laravel) trims strings and turns empty ones into null itself; doing it here
    # keeps the logged body equal to what SalesByte stores, and leaves the phone for it to sanitise.
    return text.strip() or None


def salesperson(value: Any) -> str | list[str] | None:
    """One address stays a string, several stay an array; nothing left means null."""
    if isinstance(value, (list, tuple)):
        emails = [email for email in map(as_text, value) if email]
        return emails or None
    return as_text(value)


def build_body(config: SalesByteConfig, payload: dict[str, Any]) -> dict[str, Any]:
    """Required fields always; an optional field only when mapped (null when its value is empty)."""
    body: dict[str, Any] = {
        "uuid": config.uuid,
        "quote_profile_id": config.quote_profile_id,
        # Required: an empty name is sent as "" so SalesByte's own 422 says what is missing.
        "customer_name": as_text(payload.get("customer_name")) or "",
        "chat_enabled": config.chat_enabled,
        "workflows_enabled": config.workflows_enabled,
        "allow_customer_document_upload": config.allow_customer_document_upload,
        "trigger_created_messages_to_customer": config.trigger_created_messages_to_customer,
        "send_type": config.send_type,
        "type": config.type,
        # A mapped salesperson wins for this lead; an empty one falls back to the configured
        # default, and null (no default either) lets SalesByte assign one at random.
        "salesperson_email": salesperson(payload.get("salesperson_email")) or salesperson(config.salesperson_email),
    }
    for name in OPTIONAL_TEXT:
        if name in payload:
            body[name] = as_text(payload[name])
    return body
