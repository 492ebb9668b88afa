"""Names in the namespace: remove, list, inspect. Results are parsed JSON."""

import json
import os

from ._native import lib

__all__ = ["unlink", "list_objects", "stat", "peek", "gc", "namespace"]


def namespace():
    """The namespace objects are opened in: $POLYIPC_NAMESPACE, default "default"."""
    return os.environ.get("POLYIPC_NAMESPACE") or "default"


def unlink(name):
    """Removes the name. Handles that are open keep working. polyipc.NotFound if there is none."""
    lib.polyipc_unlink(name)


def list_objects():
    """Every object of the namespace, as a list of stat dicts."""
    return json.loads(lib.polyipc_native_list_json())


def stat(name):
    """One object's options and counters, as a dict, without attaching to it."""
    return json.loads(lib.polyipc_native_stat_json(name))


def peek(name, max_count=10):
    """Up to max_count messages of queue `name`, without taking them:
    [{"message": ..., "priority": n}, ...] (bytes messages under "base64")."""
    return json.loads(lib.polyipc_native_peek_json(name, max_count))


def gc():
    """Removes ephemeral objects whose processes are all dead: {"removed": [...], "stale": [...]}."""
    return json.loads(lib.polyipc_native_gc_json())
