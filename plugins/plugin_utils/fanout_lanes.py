# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fan-out blocks and their lanes, for the ``org.async_jobs.fanout`` strategy.

A block whose OWN ``vars`` set ``fanout: true`` is a fan-out block. Each direct child of its
``block:`` list is a lane: a task child is a lane of one task, a block child is a lane that runs
its tasks in order with its own rescue/always. The children that one static ``import_tasks`` or
``import_role`` expands into stay one lane.

This module only reads playbook objects (blocks and tasks as the play iterator holds them); it
decides what is a lane, refuses what cannot run in one, and labels lane tasks so that callbacks
can tell lanes apart.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.playbook.block import Block

from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat

FANOUT_KEYWORD = "fanout"
LANE_VAR = "_async_jobs_lane"
"""Task variable holding the lane label of every task in a lane (read by ``org.async_jobs.async_log``)."""

_ALLOWED_META = frozenset(("noop",))
_ALLOWED_IMPLICIT_META = frozenset(("noop", "role_complete"))


def describe(obj) -> str:
    """``'name' (path:line)`` for a task or block, as far as it is known."""
    name = None
    get_name = getattr(obj, "get_name", None)
    if callable(get_name):
        try:
            name = get_name()
        except Exception:  # pylint: disable=broad-exception-caught
            name = None
    name = name or getattr(obj, "name", None) or getattr(obj, "action", None) or "unnamed"
    path = None
    get_path = getattr(obj, "get_path", None)
    if callable(get_path):
        try:
            path = get_path()
        except Exception:  # pylint: disable=broad-exception-caught
            path = None
    return "'%s' (%s)" % (name, path) if path else "'%s'" % name


def is_fanout_block(obj) -> bool:
    """True when ``obj`` is a block whose own vars mark it as a fan-out block.

    Only literal booleans (or the usual boolean strings) count: the marker decides how the play is
    run, before any host variable exists, so a template cannot be honoured and is refused."""
    if not isinstance(obj, Block):
        return False
    own_vars = obj.vars if isinstance(obj.vars, dict) else {}
    if FANOUT_KEYWORD not in own_vars:
        return False
    value = own_vars[FANOUT_KEYWORD]
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleError(
            "The fan-out marker of block %s must be a literal boolean (vars: {fanout: true}), got %r. "
            "It decides how the play runs before any variable is known, so it cannot be templated." % (describe(obj), value),
            obj=obj.get_ds(),
        ) from None


def fanout_ancestor(task):
    """The innermost fan-out block above ``task`` (walking its parents), or None."""
    parent = getattr(task, "_parent", None)
    while parent is not None:
        if is_fanout_block(parent):
            return parent
        parent = getattr(parent, "_parent", None)
    return None


class Lane:
    """One lane of a fan-out block: children ``start``..``end - 1`` of the block's task list."""

    __slots__ = ("index", "label", "start", "end", "tasks", "task_uuids")

    def __init__(self, index, label, start, end, tasks):
        self.index = index
        self.label = label
        self.start = start
        self.end = end
        self.tasks = tasks
        self.task_uuids = frozenset(core_compat.task_uuid(task) for task in tasks)

    def __repr__(self):
        return "Lane(%d, %r, %d tasks)" % (self.index, self.label, len(self.tasks))


class FanoutBlock:
    """A fan-out block as the play iterator holds it (after tag filtering), split into lanes."""

    def __init__(self, block):
        self.block = block
        self.uuid = core_compat.task_uuid(block)
        self.lanes = _split_lanes(block)
        self.body_uuids = frozenset().union(*(lane.task_uuids for lane in self.lanes)) if self.lanes else frozenset()

    def lane_of(self, task):
        uuid = core_compat.task_uuid(task)
        for lane in self.lanes:
            if uuid in lane.task_uuids:
                return lane
        return None

    def in_body(self, task) -> bool:
        return core_compat.task_uuid(task) in self.body_uuids

    def describe(self) -> str:
        return describe(self.block)


def _flatten(children):
    tasks = []
    for child in children:
        if isinstance(child, Block):
            tasks.extend(child.get_tasks())
        else:
            tasks.append(child)
    return tasks


def _lane_key(child, fanout_uuid):
    """What makes children one lane: the object right below the fan-out block in the parent
    chain (the child itself, or the static import that expanded into several children)."""
    node = child
    parent = getattr(node, "_parent", None)
    while parent is not None and core_compat.task_uuid(parent) != fanout_uuid:
        node = parent
        parent = getattr(node, "_parent", None)
    return core_compat.task_uuid(node), node


def _split_lanes(block):
    fanout_uuid = core_compat.task_uuid(block)
    groups = []
    for position, child in enumerate(block.block):
        key, node = _lane_key(child, fanout_uuid)
        if groups and groups[-1][0] == key:
            groups[-1][3] = position + 1
        else:
            groups.append([key, node, position, position + 1])
    lanes = []
    seen = {}
    for index, (dummy, node, start, end) in enumerate(groups, start=1):
        label = getattr(node, "name", None) or "lane %d" % index
        if label in seen:
            label = "%s (lane %d)" % (label, index)
        seen[label] = True
        lanes.append(Lane(index, label, start, end, _flatten(block.block[start:end])))
    return lanes


def _walk_blocks(blocks, inside_fanout=None):
    """Yield (block, enclosing fan-out block or None) for every block, depth first."""
    for block in blocks:
        if not isinstance(block, Block):
            continue
        yield block, inside_fanout
        marked = is_fanout_block(block)
        below = block if marked else inside_fanout
        for section in (block.block, block.rescue, block.always):
            yield from _walk_blocks(section, below)


def check_fanout_block_task(task, fanout, lane, action=None):
    """Refuse ``task`` (of ``lane``) if it cannot run in a lane; ``action`` is its resolved action
    when known (a templated action is checked again when it is resolved)."""
    action = action or getattr(task, "action", None)
    where = "task %s in lane '%s' of fan-out block %s" % (describe(task), lane.label, describe(fanout.block))
    if action in C._ACTION_ALL_INCLUDES:
        raise AnsibleError(
            "%s cannot run in a fan-out lane: %s. Lanes are planned before the play runs, so use the "
            "static import_tasks/import_role, or move the include out of the fan-out block." % (action, where),
            obj=task.get_ds(),
        )
    if action in C._ACTION_META:
        meta = task._get_meta()
        allowed = _ALLOWED_IMPLICIT_META if getattr(task, "implicit", False) else _ALLOWED_META
        if meta not in allowed:
            raise AnsibleError(
                "meta: %s cannot run in a fan-out lane: %s. Meta tasks act on the whole play or host, "
                "which has several tasks running at once in a fan-out block; only meta: noop is allowed. "
                "Move it before or after the fan-out block." % (meta, where),
                obj=task.get_ds(),
            )


def check_fanout_block(fanout):
    """Refuse what cannot run in a lane, naming the task and its file:line."""
    for lane in fanout.lanes:
        for task in lane.tasks:
            check_fanout_block_task(task, fanout, lane)


def prepare_play(blocks, handler_blocks=()):
    """Find, check and label every fan-out block of a play.

    ``blocks`` are the play iterator's blocks (after tag filtering), ``handler_blocks`` the play's
    handler blocks. Returns {block uuid: FanoutBlock}; raises AnsibleError for a nested fan-out
    block, a fan-out block among handlers, or a task that cannot run in a lane.
    """
    found = {}
    for block, outer in _walk_blocks(handler_blocks):
        if is_fanout_block(block):
            raise AnsibleError(
                "Fan-out block %s is in the handlers section; handlers run in order as notified, so "
                "fan-out blocks are only supported among tasks." % describe(block),
                obj=block.get_ds(),
            )
    for block, outer in _walk_blocks(blocks):
        if not is_fanout_block(block):
            continue
        if outer is not None:
            raise AnsibleError(
                "Fan-out block %s is nested inside fan-out block %s; fan-out blocks cannot be nested. "
                "Remove 'fanout: true' from one of them." % (describe(block), describe(outer)),
                obj=block.get_ds(),
            )
        fanout = FanoutBlock(block)
        check_fanout_block(fanout)
        label_lanes(fanout)
        found[fanout.uuid] = fanout
    return found


def label_lanes(fanout):
    """Record each task's lane label in its own vars (``_async_jobs_lane``)."""
    for lane in fanout.lanes:
        for task in lane.tasks:
            if isinstance(task.vars, dict):
                task.vars[LANE_VAR] = lane.label
