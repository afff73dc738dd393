#!/bin/sh
# A stand-in for the note's httpd service, one that the examples can really restart on any
# machine: a background process with a pid file, and a count of restarts.
# usage: standin_service.sh DIR start|restart|stop|status
set -eu
dir="$1"; action="$2"
pidfile="$dir/service.pid"
mkdir -p "$dir"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
start() {
    # The service lives at most 10 minutes, so that a forgotten one does not linger.
    nohup sleep 600 >/dev/null 2>&1 &
    echo $! > "$pidfile"
}
stop() { if running; then kill "$(cat "$pidfile")"; fi; rm -f "$pidfile"; }
case "$action" in
    start) running || start ;;
    restart)
        stop
        start
        count=$(( $(cat "$dir/restarts" 2>/dev/null || echo 0) + 1 ))
        echo "$count" > "$dir/restarts"
        echo "restarted (restart $count, pid $(cat "$pidfile"))" ;;
    stop) stop ;;
    status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo stopped; exit 3; fi ;;
    *) echo "unknown action $action" >&2; exit 2 ;;
esac
