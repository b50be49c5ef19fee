"""Template rendering in Jinja's sandbox: a missing field renders empty, nothing escapes the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateError as JinjaTemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

_env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


class TemplateError(ValueError):
    """A template that cannot be compiled or rendered, with a message fit for an admin."""


@lru_cache(maxsize=2048)
def _compile(source: str):  # type: ignore[no-untyped-def]
    try:
        return _env.from_string(source)
    except JinjaTemplateError as exc:
        raise TemplateError(f"template syntax error: {exc}") from None


def check_template(source: str) -> str | None:
    """Return why ``source`` is not a valid template, or None."""
    try:
        _compile(source)
    except TemplateError as exc:
        return str(exc)
    return None


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render ``source`` with ``context``; raises :class:`TemplateError` with a readable message."""
    template = _compile(source)
    try:
        return template.render(context)
    except SecurityError as exc:
        raise TemplateError(f"template tried something unsafe: {exc}") from None
    except JinjaTemplateError as exc:
        raise TemplateError(f"template error: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"template error: {type(exc).__name__}: {exc}") from None
