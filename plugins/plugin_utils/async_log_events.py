# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event model of the async_log callback.

:class:`EventBuilder` makes the envelope every event carries (``schema``, ``run_id``, ``seq``,
``ts`` and where they apply ``host``, ``play``, ``task``, ``lane``). :class:`RunRecorder` turns the
callback hooks of a run into events: it remembers which async job each host runs (core's poll tick
carries only the jid), which handlers each host has been notified for, and which hosts failed, so
that it can say why a handler did or did not run.

The recorder takes plain values and duck-typed task, play and handler objects (``name``,
``action``, ``async_val``, ``poll``, ``notify``, ``listen``, ``no_log``), so it is unit-tested with
small fakes rather than ansible-core's result classes, whose constructors change between releases.
"""

from __future__ import annotations

import datetime
import time
import typing as t
import uuid

from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat
from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_serialise import (
    NO_LOG_MARKER,
    limit_size,
    to_jsonable,
)

SCHEMA_VERSION = "org.async_jobs.async_log/1"

ASYNC_STATUS_ACTIONS = frozenset(("async_status", "ansible.builtin.async_status", "ansible.legacy.async_status"))
WAIT_JOBS_ACTIONS = frozenset(("org.async_jobs.wait_jobs", "wait_jobs"))
# async_wrapper's message when it killed a job at its async limit, and core's when poll > 0 gave up.
TIMEOUT_MESSAGES = ("Timeout exceeded", "did not complete within the requested time")
# Fields written as null when unknown (the schema requires them); other None fields are left out.
NULLABLE_FIELDS = frozenset(("duration", "poll", "async_limit", "handler"))


def utc_timestamp(now: float | None = None) -> str:
    """UTC time with milliseconds and a Z, e.g. 2026-12-03T17:12:00.123Z."""
    moment = datetime.datetime.fromtimestamp(time.time() if now is None else now, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def task_ref(task) -> dict[str, t.Any] | None:
    if task is None:
        return None
    try:
        name = task.get_name()
    except Exception:  # a task whose name cannot be templated still has an action
        name = getattr(task, "name", None)
    return {
        "uuid": core_compat.task_uuid(task),
        "name": to_jsonable(name) or "",
        "action": to_jsonable(getattr(task, "action", None)),
    }


def play_ref(play) -> dict[str, t.Any] | None:
    if play is None:
        return None
    return {"uuid": core_compat.task_uuid(play), "name": to_jsonable(getattr(play, "name", None)) or ""}


def lane_of(task) -> t.Any:
    """The fan-out lane a task runs in, as the fanout strategy marks it, else None."""
    lane = getattr(task, "_async_jobs_lane", None)
    if lane is None:
        variables = getattr(task, "vars", None)
        if isinstance(variables, dict):
            lane = variables.get("_async_jobs_lane")
    return to_jsonable(lane)


def is_handler(task) -> bool:
    return task is not None and type(task).__name__ == "Handler" or hasattr(task, "listen") and hasattr(task, "notified_hosts")


def resolved_action(task) -> str:
    action = getattr(task, "resolved_action", None) or getattr(task, "action", None) or ""
    return str(action)


def _number(value, default=None):
    try:
        return float(value) if isinstance(value, float) else int(value)
    except (TypeError, ValueError):
        return default


class EventBuilder:
    """Envelopes: one run id per callback instance and a sequence number per event."""

    def __init__(self, run_id: str | None = None, clock: t.Callable[[], float] = time.time):
        self.run_id = run_id or uuid.uuid4().hex
        self.seq = 0
        self.clock = clock

    def build(self, event: str, *, host=None, play=None, task=None, lane=None, **fields) -> dict[str, t.Any]:
        self.seq += 1
        envelope: dict[str, t.Any] = {
            "schema": SCHEMA_VERSION,
            "run_id": self.run_id,
            "seq": self.seq,
            "ts": utc_timestamp(self.clock()),
            "event": event,
        }
        if host is not None:
            envelope["host"] = str(host)
        if play is not None:
            envelope["play"] = play
        if task is not None:
            envelope["task"] = task
        if lane is not None:
            envelope["lane"] = lane
        for key, value in fields.items():
            if value is not None or key in NULLABLE_FIELDS:
                envelope[key] = to_jsonable(value)
        return envelope


class _Job:
    __slots__ = ("jid", "host", "task", "lane", "async_limit", "poll", "started", "ticks", "no_log", "ended", "source")

    def __init__(self, jid, host, task, lane, async_limit, poll, started, no_log, source):
        self.jid = jid
        self.host = host
        self.task = task
        self.lane = lane
        self.async_limit = async_limit
        self.poll = poll
        self.started = started
        self.ticks = 0
        self.no_log = no_log
        self.ended = False
        self.source = source


class RunRecorder:
    """The state of one ansible-playbook run, fed by the callback and returning events."""

    def __init__(self, builder: EventBuilder | None = None, max_result_bytes: int = 16384,
                 monotonic: t.Callable[[], float] = time.monotonic):
        self.builder = builder or EventBuilder()
        self.max_result_bytes = max_result_bytes
        self.monotonic = monotonic
        self.events: list[dict[str, t.Any]] = []
        self.play = None
        self.play_uuid = None
        self.batch = 0
        self.force_handlers = False
        self.handlers: list = []
        self.failed_hosts: set[str] = set()
        self.unreachable_hosts: set[str] = set()
        self.started: dict[tuple[str, str], float] = {}
        self.polling: dict[str, list[tuple[t.Any, float]]] = {}
        self.jobs: dict[str, _Job] = {}
        self.handler_state: dict[tuple[str, str], str] = {}
        self.handler_refs: dict[str, dict] = {}

    # -- envelope --------------------------------------------------------------------------

    def _emit(self, event: str, *, host=None, task=None, **fields) -> dict[str, t.Any]:
        lane = fields.pop("lane", None)
        if lane is None and task is not None:
            lane = lane_of(task)
        record = self.builder.build(event, host=host, play=play_ref(self.play), task=task_ref(task), lane=lane, **fields)
        self.events.append(record)
        return record

    def _result(self, task, result) -> t.Any:
        if getattr(task, "no_log", False) is True or (isinstance(result, dict) and result.get("_ansible_no_log")):
            return NO_LOG_MARKER
        return limit_size(result, self.max_result_bytes)

    # -- playbook and plays ------------------------------------------------------------------

    def playbook_start(self, playbook_path: str, ansible_version: str | None = None) -> list[dict]:
        return [self._emit("playbook.start", playbook=playbook_path, ansible_version=ansible_version)]

    def play_start(self, play, *, force_handlers: dict[str, t.Any], strategy: str) -> list[dict]:
        """force_handlers: {"enabled": bool, "source": "cli"|"play"|"config"|"default"}."""
        events = self._finish_play()
        uuid_ = core_compat.task_uuid(play)
        self.batch = self.batch + 1 if uuid_ is not None and uuid_ == self.play_uuid else 1
        self.play, self.play_uuid = play, uuid_
        self.force_handlers = bool(force_handlers.get("enabled"))
        self.handlers = [handler for block in (getattr(play, "handlers", None) or []) for handler in getattr(block, "block", [block])]
        self.failed_hosts, self.unreachable_hosts = set(), set()
        self.handler_state = {}
        serial = getattr(play, "serial", None)
        events.append(self._emit(
            "play.start", strategy=strategy, serial=list(serial) if isinstance(serial, (list, tuple)) else serial,
            batch=self.batch, hosts=getattr(play, "hosts", None), force_handlers=force_handlers,
            handlers=[self._handler_ref(handler) for handler in self.handlers],
        ))
        return events

    def playbook_end(self, recap: dict[str, dict[str, int]]) -> list[dict]:
        events = self._finish_play()
        self.play = None
        events.append(self._emit("playbook.end", recap=recap))
        return events

    def _finish_play(self) -> list[dict]:
        """handler.not_run for every handler a host was notified for in the play (batch) that
        ends now, but that never started there."""
        events = []
        for (host, handler_uuid), state in sorted(self.handler_state.items()):
            if state not in ("queued", "triggered"):
                continue
            if host in self.unreachable_hosts:
                reason = "unreachable"
            elif host in self.failed_hosts:
                reason = "host_failed"
            else:
                reason = "play_ended"
            events.append(self._emit("handler.not_run", host=host, handler=self.handler_refs.get(handler_uuid),
                                     reason=reason, notified=state == "triggered", force_handlers=self.force_handlers))
        self.handler_state = {}
        return events

    # -- handlers ----------------------------------------------------------------------------

    def _handler_ref(self, handler) -> dict[str, t.Any]:
        ref = task_ref(handler)
        listen = getattr(handler, "listen", None) or []
        ref["listen"] = [to_jsonable(topic) for topic in (listen if isinstance(listen, list) else [listen])]
        if ref["uuid"] is not None:
            self.handler_refs[ref["uuid"]] = ref
        return ref

    def resolve_notification(self, notification: str) -> list:
        """The play's handlers a notification reaches: the last handler of that name (or
        role-qualified name), and every handler listening to it, as core looks them up."""
        found = []
        for handler in reversed(self.handlers):
            names = {getattr(handler, "name", None)}
            for include_role_fqcn in (False, True):
                try:
                    names.add(handler.get_name(include_role_fqcn=include_role_fqcn))
                except TypeError:
                    names.add(handler.get_name())
                except Exception:  # a name that cannot be templated is matched by listen only
                    pass
            if notification in names:
                found.append(handler)
                break
        seen = set()
        for handler in self.handlers:
            listen = getattr(handler, "listen", None) or []
            if notification in (listen if isinstance(listen, list) else [listen]):
                name = getattr(handler, "name", None)
                if name and name in seen:
                    continue
                seen.add(name)
                if handler not in found:
                    found.append(handler)
        return found

    def _notifications(self, host: str, task, status: str, changed: bool) -> list[dict]:
        notify = getattr(task, "notify", None) or []
        if isinstance(notify, str):
            notify = [notify]
        if not notify:
            return []
        if status in ("ok", "changed") and changed:
            events = []
            for notification in notify:
                handlers = self.resolve_notification(notification)
                if not handlers:
                    events.append(self._emit("handler.queued", host=host, task=task, notification=notification,
                                             handler=None, missing=True))
                for handler in handlers:
                    ref = self._handler_ref(handler)
                    key = (host, ref["uuid"])
                    already = self.handler_state.get(key) in ("queued", "triggered")
                    if not already:
                        self.handler_state[key] = "queued"
                    events.append(self._emit("handler.queued", host=host, task=task, notification=notification,
                                             handler=ref, already_queued=already))
            return events
        reason = "unchanged" if status in ("ok", "changed") else status
        return [self._emit("handler.suppressed", host=host, task=task, reason=reason, notify=list(notify),
                           handlers=[self._handler_ref(h) for name in notify for h in self.resolve_notification(name)])]

    def notify(self, handler, host: str) -> list[dict]:
        """core's v2_playbook_on_notify: the handler is flushed (will run) for the host."""
        ref = self._handler_ref(handler)
        self.handler_state[(host, ref["uuid"])] = "triggered"
        return [self._emit("handler.triggered", host=host, handler=ref, task=handler)]

    # -- tasks -------------------------------------------------------------------------------

    def runner_start(self, host: str, task) -> list[dict]:
        now = self.monotonic()
        uuid_ = core_compat.task_uuid(task)
        self.started[(host, uuid_)] = now
        if (_number(getattr(task, "async_val", 0), 0) or 0) > 0 and (_number(getattr(task, "poll", 0), 0) or 0) > 0:
            self.polling.setdefault(host, []).append((task, now))
        if is_handler(task):
            ref = self._handler_ref(task)
            self.handler_state[(host, ref["uuid"])] = "started"
            forced = self.force_handlers and (host in self.failed_hosts or host in self.unreachable_hosts)
            return [self._emit("handler.start", host=host, task=task, handler=ref, forced=forced)]
        return [self._emit("task.start", host=host, task=task, batch=self.batch)]

    def task_result(self, host: str, task, status: str, result: dict, *, ignore_errors: bool = False) -> list[dict]:
        """A task's final result on a host. status: ok, failed, skipped or unreachable."""
        result = result if isinstance(result, dict) else {}
        changed = bool(result.get("changed"))
        uuid_ = core_compat.task_uuid(task)
        started = self.started.pop((host, uuid_), None)
        duration = round(self.monotonic() - started, 3) if started is not None else None
        self._forget_polling(host, task)
        events = self._job_events_from_result(host, task, status, result, started)

        if status == "failed" and not ignore_errors:
            self.failed_hosts.add(host)
        elif status == "unreachable":
            self.unreachable_hosts.add(host)
        elif status in ("ok", "skipped") and host in self.failed_hosts and core_compat.task_section(task) == "rescue":
            self.failed_hosts.discard(host)

        shown = "changed" if status == "ok" and changed else status
        common = dict(status=shown, changed=changed, duration=duration, result=self._result(task, result))
        if is_handler(task):
            ref = self._handler_ref(task)
            forced = self.force_handlers and (host in self.failed_hosts or host in self.unreachable_hosts)
            self.handler_state[(host, ref["uuid"])] = "ended"
            events.append(self._emit("handler.end", host=host, task=task, handler=ref, forced=forced, **common))
        else:
            events.append(self._emit("task.end", host=host, task=task, ignore_errors=ignore_errors or None, **common))
        events.extend(self._notifications(host, task, shown, changed))
        return events

    def item_result(self, host: str, task, status: str, result: dict) -> list[dict]:
        """A loop item's result: only job launches and async_status checks are of interest."""
        return self._job_events_from_result(host, task, status, result if isinstance(result, dict) else {})

    def retry(self, host: str, task, result: dict) -> list[dict]:
        """An `until` retry: for async_status it is a poll tick of the job it checks."""
        return self._job_events_from_result(host, task, "retry", result if isinstance(result, dict) else {})

    # -- async jobs --------------------------------------------------------------------------

    def _forget_polling(self, host: str, task) -> None:
        uuid_ = core_compat.task_uuid(task)
        self.polling[host] = [entry for entry in self.polling.get(host, []) if core_compat.task_uuid(entry[0]) != uuid_]

    def _start_job(self, jid: str, host: str, task, poll, source: str, started: float | None = None) -> list[dict]:
        job = _Job(jid, host, task, lane_of(task), _number(getattr(task, "async_val", None)), poll,
                   self.monotonic() if started is None else started, getattr(task, "no_log", False) is True, source)
        self.jobs[jid] = job
        launched = round(self.monotonic() - job.started, 3)
        return [self._emit("job.start", host=host, task=task, jid=jid, async_limit=job.async_limit, poll=poll,
                           source=source, launched_ago=launched)]

    def _tick(self, job: _Job, finished: bool, source: str, elapsed: float | None = None, **extra) -> dict:
        job.ticks += 1
        if elapsed is None:
            elapsed = self.monotonic() - job.started
        return self._emit("job.poll", host=job.host, task=job.task, lane=job.lane, jid=job.jid, tick=job.ticks,
                          elapsed=round(float(elapsed), 3), finished=finished, async_limit=job.async_limit,
                          poll=job.poll, source=source, **extra)

    def _end_job(self, job: _Job, status: str, result: dict, source: str, elapsed: float | None = None, **extra) -> dict:
        job.ended = True
        if elapsed is None:
            elapsed = self.monotonic() - job.started
        shown = NO_LOG_MARKER if job.no_log else self._result(job.task, result)
        return self._emit("job.end", host=job.host, task=job.task, lane=job.lane, jid=job.jid, status=status,
                          elapsed=round(float(elapsed), 3), runtime=_runtime(result), rc=_number(result.get("rc")),
                          changed=bool(result.get("changed")), ticks=job.ticks, async_limit=job.async_limit, poll=job.poll,
                          source=source, result=shown, **extra)

    def async_poll(self, host: str, result: dict, task=None) -> list[dict]:
        """core's v2_runner_on_async_poll. Core's tick carries a stand-in async_status task and
        only the jid, so the job's task is guessed; a strategy that sends the polled task itself
        (org.async_jobs.fanout's pooled lanes) is taken at its word."""
        jid = str(result.get("ansible_job_id") or "")
        events = []
        job = self.jobs.get(jid)
        if job is None:
            task, started = self._polling_task(host, task)
            if task is None:
                return []
            events.extend(self._start_job(jid, host, task, _number(getattr(task, "poll", None)), "core", started))
            job = self.jobs[jid]
        events.append(self._tick(job, bool(result.get("finished")), "core"))
        return events

    def _polling_task(self, host: str, sent_task=None):
        """The async task on host that has no job id yet and whose first tick is due now: with
        one async task per host (linear, free) that is simply it; fan-out lanes can run several."""
        claimed = {id(job.task) for job in self.jobs.values() if job.host == host and not job.ended}
        candidates = [entry for entry in self.polling.get(host, []) if id(entry[0]) not in claimed]
        if sent_task is not None and resolved_action(sent_task) not in ASYNC_STATUS_ACTIONS:
            uuid_ = core_compat.task_uuid(sent_task)
            candidates = [entry for entry in candidates if core_compat.task_uuid(entry[0]) == uuid_] or candidates
        if not candidates:
            return None, None
        # core's first poll of a job comes one poll interval (plus the launch) after the task
        # started: the earliest due task is the likeliest owner of a jid not seen before
        task, started = min(candidates, key=lambda entry: entry[1] + (_number(getattr(entry[0], "poll", 0), 0) or 0))
        return task, started

    def async_final(self, host: str, task, result: dict, failed: bool) -> list[dict]:
        """core's v2_runner_on_async_ok / _failed: the end of a poll > 0 job."""
        jid = str(result.get("ansible_job_id") or (result.get("async_result") or {}).get("ansible_job_id") or "")
        events = []
        job = self.jobs.get(jid) if jid else None
        reattributed = None
        if job is not None and core_compat.task_uuid(job.task) != core_compat.task_uuid(task):
            # two async tasks started on the host at once and the ticks guessed wrong: the final
            # result names the task for sure; the other task's job gets the next unknown jid
            job.task, job.lane, job.async_limit, job.poll = task, lane_of(task), _number(getattr(task, "async_val", None)), _number(getattr(task, "poll", None))
            reattributed = True
        if job is None:
            for candidate in self.jobs.values():
                if candidate.host == host and not candidate.ended and core_compat.task_uuid(candidate.task) == core_compat.task_uuid(task):
                    job = candidate
                    break
        if job is None:
            started = next((entry[1] for entry in self.polling.get(host, []) if core_compat.task_uuid(entry[0]) == core_compat.task_uuid(task)),
                           self.started.get((host, core_compat.task_uuid(task))))
            events.extend(self._start_job(jid or "unknown", host, task, _number(getattr(task, "poll", None)), "core", started))
            job = self.jobs[jid or "unknown"]
        status = _job_status(result, failed)
        events.append(self._end_job(job, status, result, "core", reattributed=reattributed))
        # the next loop item, if any, launches its own job on the same task from now on
        uuid_ = core_compat.task_uuid(task)
        now = self.monotonic()
        self.polling[host] = [(entry[0], now) if core_compat.task_uuid(entry[0]) == uuid_ else entry for entry in self.polling.get(host, [])]
        return events

    def _job_events_from_result(self, host: str, task, status: str, result: dict, started: float | None = None) -> list[dict]:
        if started is None:
            started = self.started.get((host, core_compat.task_uuid(task)))
        action = resolved_action(task)
        if action in ASYNC_STATUS_ACTIONS or getattr(task, "action", None) in ASYNC_STATUS_ACTIONS:
            return self._async_status(host, task, status, result)
        if action in WAIT_JOBS_ACTIONS or getattr(task, "action", None) in WAIT_JOBS_ACTIONS:
            return self._wait_jobs(host, task, result, started) if status != "retry" else []
        if status == "retry":
            return []
        events = []
        poll = _number(getattr(task, "poll", None))
        async_limit = _number(getattr(task, "async_val", None)) or 0
        if async_limit > 0 and poll == 0 and status == "ok":
            items = result.get("results") if isinstance(result.get("results"), list) else [result]
            for item in items:
                jid = item.get("ansible_job_id") if isinstance(item, dict) else None
                if jid and str(jid) not in self.jobs:
                    events.extend(self._start_job(str(jid), host, task, 0, "launch"))
        return events

    def _async_status(self, host: str, task, status: str, result: dict) -> list[dict]:
        if result.get("erased") or (getattr(task, "args", None) or {}).get("mode") == "cleanup":
            return []
        items = result.get("results") if isinstance(result.get("results"), list) else [result]
        events = []
        for item in items:
            if not isinstance(item, dict):
                continue
            jid = str(item.get("ansible_job_id") or "")
            job = self.jobs.get(jid)
            if job is None or job.ended:
                continue
            finished = bool(item.get("finished"))
            failed = status == "failed" or bool(item.get("failed"))
            events.append(self._tick(job, finished, "async_status"))
            if finished or (failed and "started" not in item):
                events.append(self._end_job(job, _job_status(item, failed), item, "async_status"))
        return events

    def _wait_jobs(self, host: str, task, result: dict, wait_started: float | None) -> list[dict]:
        """Expand an org.async_jobs.wait_jobs result into job.poll / job.end per job. Only
        ``jobs`` [{jid, finished, failed, timed_out, killed, elapsed, ...}] and ``ticks``
        [{elapsed, ...}] are relied on; other tick fields are used when present."""
        jobs = result.get("jobs") if isinstance(result.get("jobs"), list) else []
        ticks = [tick for tick in (result.get("ticks") or []) if isinstance(tick, dict)]
        events = []
        for entry in jobs:
            if not isinstance(entry, dict) or not entry.get("jid"):
                continue
            jid = str(entry["jid"])
            job = self.jobs.get(jid)
            if job is None:
                events.extend(self._start_job(jid, host, task, None, "wait_jobs"))
                job = self.jobs[jid]
            if job.ended:
                continue
            # tick times are counted from the start of the wait; job times from the launch
            offset = max(0.0, wait_started - job.started) if wait_started is not None else 0.0
            finished_at = _number(entry.get("elapsed"))
            end_elapsed = None
            for tick in ticks:
                pending = _pending_jids(tick)
                tick_elapsed = _number(tick.get("elapsed"), 0.0) or 0.0
                if pending is not None:
                    done = jid not in pending
                else:
                    done = bool(entry.get("finished")) and finished_at is not None and tick_elapsed >= finished_at
                events.append(self._tick(job, done, "wait_jobs", elapsed=offset + tick_elapsed, wait_elapsed=tick_elapsed))
                if done:
                    end_elapsed = offset + tick_elapsed
                    break
            if entry.get("killed"):
                status = "killed"
            elif entry.get("timed_out"):
                status = "timed_out"
            elif entry.get("finished"):
                status = _job_status(entry, bool(entry.get("failed")))
            else:
                status = "unfinished"
            own = {key: value for key, value in entry.items() if key not in ("jid",)}
            events.append(self._end_job(job, status, own, "wait_jobs", elapsed=end_elapsed))
        return events


def _runtime(result: dict):
    """The job's own run time when its module reports one (command/shell ``delta``,
    ``H:MM:SS.ffffff``): a job collected late still shows how long it really ran."""
    delta = result.get("delta")
    if not isinstance(delta, str):
        return None
    try:
        hours, minutes, seconds = delta.split(":")
        return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)
    except ValueError:
        return None


def _pending_jids(tick: dict):
    for key in ("running", "pending_jids", "pending"):
        value = tick.get(key)
        if isinstance(value, list):
            return {str(item.get("jid") if isinstance(item, dict) else item) for item in value}
    return None


def _job_status(result: dict, failed: bool) -> str:
    message = str(result.get("msg") or "")
    if isinstance(result.get("async_result"), dict) and not result["async_result"].get("finished"):
        return "timed_out"
    if result.get("timed_out") or any(text in message for text in TIMEOUT_MESSAGES):
        return "timed_out"
    if result.get("killed"):
        return "killed"
    return "failed" if failed or result.get("failed") else "ok"
