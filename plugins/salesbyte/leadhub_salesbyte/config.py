"""The per-integration constants of a SalesByte delivery; per-lead values come from the mapping."""

from __future__ import annotations

from typing import Annotated

import msgspec

from hub.plugins.contract import Secret


class SalesByteConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Create a quote in SalesByte for each lead."""

    base_url: Annotated[str, msgspec.Meta(
        title="SalesByte address", pattern=r"^https?://\S+$",
        description="The address of your SalesByte, e.g. https://acme.salesbyte.example")]
    uuid: Annotated[str, Secret, msgspec.Meta(
        title="Integration id", min_length=1,
        description="The uuid of the integration configuration in SalesByte")]
    quote_profile_id: Annotated[int, msgspec.Meta(title="Quote profile id", ge=1)]
    send_type: Annotated[str, msgspec.Meta(
        title="Send type", min_length=1, examples=["email", "sms"],
        description="How SalesByte contacts the customer, e.g. email or sms")]
    type: Annotated[str, msgspec.Meta(
        title="Brand awareness type", min_length=1, description="The kind of brand awareness")]
    chat_enabled: bool
    workflows_enabled: bool
    allow_customer_document_upload: bool
    trigger_created_messages_to_customer: bool
    # No address pattern here: msgspec 0.22.0 can crash (segfault) when a constrained str is both a
    # member of a union and the item of its list member; SalesByte's 404 names an unknown address.
    salesperson_email: Annotated[
        str | list[str] | None,
        msgspec.Meta(title="Salesperson email", description=(
            "One address, a list of addresses, or none: SalesByte then picks a salesperson at random. "
            "A mapped salesperson_email overrides it per lead")),
    ] = None
    timeout_seconds: Annotated[float, msgspec.Meta(
        title="Timeout (seconds)", gt=0, le=120, extra_json_schema={"x-advanced": True})] = 10.0


#: The channel's Config under the name the plugin contract uses.
Config = SalesByteConfig
