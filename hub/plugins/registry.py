"""Load plugins from entry points, check them, and index their channels, transports and transforms.

A plugin that fails to import, declares an incompatible API range, or hands
back a malformed class is refused with a recorded message; the hub and the
other plugins carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import msgspec
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from hub.plugins import hookspecs
from hub.plugins.configs import is_config_type
from hub.plugins.contract import Channel, ExportTransport

log = logging.getLogger(__name__)
GROUP = "leadhub"


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    error: str | None = None


@dataclass
class Registry:
    pm: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)
    transports: dict[str, ExportTransport] = field(default_factory=dict)
    transforms: dict[str, Callable[..., Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def channel(self, name: str) -> Channel:
        try:
            return self.channels[name]
        except KeyError:
            known = ", ".join(sorted(self.channels)) or "none installed"
            raise LookupError(f"no such channel '{name}' (installed: {known})") from None

    def transport(self, name: str) -> ExportTransport:
        try:
            return self.transports[name]
        except KeyError:
            known = ", ".join(sorted(self.transports)) or "none installed"
            raise LookupError(f"no such export transport '{name}' (installed: {known})") from None

    def resolve_secret(self, reference: str) -> str | None:
        return self.pm.hook.leadhub_resolve_secret(reference=reference)

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an event hook on every plugin; one plugin's exception never reaches the caller."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            try:
                impl.function(**kwargs)
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)


def load_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Discover every plugin in the ``leadhub`` entry-point group (plus ``extra_plugins``, for tests)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Registry(pm=pm)
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        _register_entry_point(registry, ep)
    for name, plugin in extra_plugins:
        _register(registry, name, plugin, PluginInfo(name, "(registered in process)", "", repr(plugin)))
    _collect(registry)
    return registry


def _register_entry_point(registry: Registry, ep: EntryPoint) -> None:
    dist = ep.dist.name if ep.dist else "?"
    version = ep.dist.version if ep.dist else "?"
    info = PluginInfo(ep.name, dist, version, ep.value)
    try:
        plugin = ep.load()
    except Exception as exc:  # a broken plugin must not take the hub down
        _refuse(registry, info, f"cannot be imported: {type(exc).__name__}: {exc}")
        return
    _register(registry, ep.name, plugin, info)


def _register(registry: Registry, name: str, plugin: object, info: PluginInfo) -> None:
    wanted = getattr(plugin, "LEADHUB_PLUGIN_API", None)
    if wanted is not None:
        try:
            compatible = hookspecs.PLUGIN_API_VERSION in SpecifierSet(str(wanted))
        except InvalidSpecifier:
            _refuse(registry, info, f"declares an unreadable LEADHUB_PLUGIN_API {wanted!r}")
            return
        if not compatible:
            _refuse(registry, info, f"supports plugin API {wanted}, this hub provides {hookspecs.PLUGIN_API_VERSION}")
            return
    try:
        registry.pm.register(plugin, name=name)
    except Exception as exc:  # e.g. a hook implementation with an unknown argument
        _refuse(registry, info, f"cannot be registered: {exc}")
        return
    registry.plugins.append(info)


def _refuse(registry: Registry, info: PluginInfo, why: str) -> None:
    info.error = why
    registry.plugins.append(info)
    registry.problems.append(f"plugin '{info.name}' ({info.distribution}) {why}")
    log.error("plugin %s refused: %s", info.name, why)


def _collect(registry: Registry) -> None:
    for plugin_name, classes in _results(registry, "leadhub_channels"):
        for cls in classes or []:
            _add_class(registry, plugin_name, cls, Channel, registry.channels, "channel")
    for plugin_name, classes in _results(registry, "leadhub_export_transports"):
        for cls in classes or []:
            _add_class(registry, plugin_name, cls, ExportTransport, registry.transports, "transport")
    for plugin_name, transforms in _results(registry, "leadhub_transforms"):
        for name, fn in (transforms or {}).items():
            if name in registry.transforms:
                registry.problems.append(f"plugin '{plugin_name}': transform '{name}' already exists; kept the first")
            elif not callable(fn):
                registry.problems.append(f"plugin '{plugin_name}': transform '{name}' is not callable")
            else:
                registry.transforms[name] = fn


def _results(registry: Registry, hook: str) -> list[tuple[str, Any]]:
    out = []
    for impl in getattr(registry.pm.hook, hook).get_hookimpls():
        try:
            out.append((impl.plugin_name, impl.function()))
        except Exception as exc:
            registry.problems.append(f"plugin '{impl.plugin_name}' failed in {hook}: {type(exc).__name__}: {exc}")
    return out


def _add_class(registry: Registry, plugin: str, cls: Any, base: type, into: dict, kind: str) -> None:
    problem = _class_problem(cls, base)
    name = getattr(cls, "name", repr(cls))
    if problem is None and name in into:
        problem = f"{kind} name '{name}' is already taken by another plugin"
    if problem is None:
        try:
            into[name] = cls()
        except Exception as exc:
            problem = f"cannot be created: {type(exc).__name__}: {exc}"
    if problem:
        registry.problems.append(f"plugin '{plugin}': {kind} {name!s} refused: {problem}")


def _class_problem(cls: Any, base: type) -> str | None:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        return f"is not a subclass of {base.__module__}.{base.__name__}"
    for attr in ("name", "title", "Config"):
        if not getattr(cls, attr, None):
            return f"has no {attr}"
    if not is_config_type(cls.Config):
        return "its Config is not a msgspec.Struct (or a tagged union of them)"
    try:
        msgspec.json.schema(cls.Config)
    except Exception as exc:
        return f"its Config has no JSON Schema: {exc}"
    return None
