"""The request body exactly as SalesByte's "Create Lead" documents it (pure)."""

from __future__ import annotations

from typing import Any

from leadhub_salesbyte.config import SalesByteConfig

PATH = "/integrations/create_brandawareness"
CUSTOMER_FIELDS = ("customer_name", "customer_phone", "customer_email", "customer_company")
CUSTOM_FIELDS = tuple(f"custom_field_{n}_content" for n in range(1, 11))
TAGS = tuple(f"tag_{n}" for n in range(1, 11))
#: Every field a mapping may fill; anything else is refused when the delivery is saved.
MAPPABLE = (*CUSTOMER_FIELDS, "salesperson_email", *CUSTOM_FIELDS, *TAGS, "message")


def _text_or_null(value: Any) -> str | None:
    """Optional string fields: empty becomes null, other types become text."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value).strip()
    return text or None


def _salesperson(value: Any) -> str | list[str] | None:
    if isinstance(value, (list, tuple)):
        emails = [e for e in (_text_or_null(v) for v in value) if e]
        return emails or None
    return _text_or_null(value)


def build_body(config: SalesByteConfig, uuid: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Required fields always present; optional ones present only when they have a value."""
    body: dict[str, Any] = {
        "uuid": uuid,
        "quote_profile_id": config.quote_profile_id,
        "customer_name": _text_or_null(payload.get("customer_name")) or "",
        "chat_enabled": config.chat_enabled,
        "workflows_enabled": config.workflows_enabled,
        "allow_customer_document_upload": config.allow_customer_document_upload,
        "trigger_created_messages_to_customer": config.trigger_created_messages_to_customer,
        "send_type": config.send_type,
        "type": config.type,
    }
    # A mapped salesperson wins over the configured default; null lets SalesByte pick one.
    salesperson = payload["salesperson_email"] if "salesperson_email" in payload else config.salesperson_email
    body["salesperson_email"] = _salesperson(salesperson)
    for name in (*CUSTOMER_FIELDS[1:], *CUSTOM_FIELDS, *TAGS, "message"):
        value = _text_or_null(payload.get(name))
        if value is not None:
            body[name] = value
    return body
