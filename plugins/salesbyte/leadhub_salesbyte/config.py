"""The per-integration constants of a SalesByte delivery; per-lead values come from the mapping."""

from __future__ import annotations

from typing import Annotated

import msgspec

from hub.plugins.contract import Secret


class SalesByteConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Create a quote in SalesByte for each lead."""

    base_url: Annotated[str, msgspec.Meta(title="SalesByte address", pattern=r"^https?://",
                                          description="e.g. https://acme.salesbyte.example")]
    uuid: Annotated[str, Secret, msgspec.Meta(title="Integration id", min_length=1)]
    quote_profile_id: Annotated[int, msgspec.Meta(ge=1, title="Quote profile id")]
    send_type: Annotated[str, msgspec.Meta(min_length=1, description="How SalesByte contacts the customer, "
                                                                     "e.g. email or sms")]
    type: Annotated[str, msgspec.Meta(min_length=1, description="The kind of brand awareness")]
    chat_enabled: bool
    workflows_enabled: bool
    allow_customer_document_upload: bool
    trigger_created_messages_to_customer: bool
    salesperson_email: Annotated[
        str | list[str] | None,
        msgspec.Meta(description="One address, a list, or none (SalesByte picks a salesperson at random)"),
    ] = None
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
