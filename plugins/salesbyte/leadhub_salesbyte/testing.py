"""A SalesByte-compatible server for tests: answers the integration API strictly, by its contract.

Route it on the test kit's HTTP peer::

    server = SalesByte()
    http_peer.route("POST", "/integrations/create_brandawareness", server)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.testing.http_peer import Answer, RecordedRequest

UUID = "3f0c-integration"
REQUIRED = {"uuid": str, "quote_profile_id": int, "customer_name": str, "chat_enabled": bool,
            "workflows_enabled": bool, "allow_customer_document_upload": bool,
            "trigger_created_messages_to_customer": bool, "send_type": str, "type": str}
OPTIONAL_TEXT = {"customer_phone", "customer_email", "customer_company", "message",
                 *(f"custom_field_{n}_content" for n in range(1, 11)), *(f"tag_{n}" for n in range(1, 11))}
SETTINGS = {"uuid": UUID, "quote_profile_id": 12, "send_type": "email", "type": "brand_awareness",
            "chat_enabled": True, "workflows_enabled": True, "allow_customer_document_upload": False,
            "trigger_created_messages_to_customer": True, "salesperson_email": ["ann@acme.example", "bob@acme.example"]}


@dataclass
class SalesByte:
    """Answers like SalesByte: 422 for a bad body, 404 for unknown ids, 200 with the quote id and links."""

    profiles: set[int] = field(default_factory=lambda: {12})
    salespeople: set[str] = field(default_factory=lambda: {"ann@acme.example", "bob@acme.example"})
    links: str = "all"  # all | some | null
    fail_with: int | None = None
    next_id: int = 100

    def __call__(self, request: RecordedRequest) -> Answer:
        if self.fail_with:
            return Answer(status=self.fail_with, json={"message": "Server Error"})
        body = request.json()
        errors: dict[str, list[str]] = {}
        for name, kind in REQUIRED.items():
            value = body.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):  # Laravel's "required"
                errors[name] = [f"The {name} field is required."]
            elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                errors[name] = [f"The {name} field must be a {kind.__name__}."]
        for name, value in body.items():
            if name in REQUIRED:
                continue
            if name == "salesperson_email":
                ok = value is None or isinstance(value, str) or (
                    isinstance(value, list) and all(isinstance(v, str) for v in value))
            elif name in OPTIONAL_TEXT:
                ok = value is None or isinstance(value, str)
            else:
                ok = False
            if not ok:
                errors[name] = [f"The {name} field is invalid."]
        if errors:
            return Answer(status=422, json={"message": "The given data was invalid.", "errors": errors})
        if body["uuid"] != UUID:
            return Answer(status=404, json={"message": "Integration configuration not found."})
        if body["quote_profile_id"] not in self.profiles:
            return Answer(status=404, json={"message": "Quote profile not found."})
        wanted = body.get("salesperson_email")
        for email in [wanted] if isinstance(wanted, str) else wanted or []:
            if email not in self.salespeople:
                return Answer(status=404, json={"message": f"No salesperson with email {email}."})
        self.next_id += 1
        base = f"https://acme.salesbyte.example/q/{self.next_id}"
        links: dict[str, Any] = {"edit": f"{base}/edit", "customer_view": f"{base}/view"}
        if self.links == "all":
            links.update(customer_verificate=f"{base}/verify", customer_project_approval=f"{base}/approve")
        elif self.links == "null":
            links.update(customer_verificate=None, customer_project_approval=None)
        return Answer(status=200, json={"id": self.next_id, "links": links})


SETTINGS = {"uuid": UUID, "quote_profile_id": 12, "send_type": "email", "type": "brand_awareness",
            "chat_enabled": True, "workflows_enabled": True, "allow_customer_document_upload": False,
            "trigger_created_messages_to_customer": True, "salesperson_email": ["ann@acme.example", "bob@acme.example"]}
