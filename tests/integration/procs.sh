# procs.sh - process helpers, sourced by the test scripts and scripts/bench.sh.

# Echo servers in the tests run until stopped, never for a count: a client
# resends when an echo is late (a loaded machine), and a server that
# counted the resends would stop before the client's last datagram.
# stop_server returns 0 when pid was still running (then it is stopped) and
# 1 when it had already exited: the server failed.
stop_server() { # pid
    local st=0
    kill -0 "$1" 2>/dev/null || st=1
    stop_pid "$1"
    return $st
}

# Stops pid: SIGTERM, up to seconds (10) for it to exit, then SIGKILL;
# reaps it. Always 0.
stop_pid() { # pid [seconds]
    local p=$1
    kill "$p" 2>/dev/null
    for _ in $(seq $((${2:-10} * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}

# Waits up to seconds (10) for a line matching pattern in file (a
# server's "listening" line): 0 when it came, 1 when not.
wait_line() { # file pattern [seconds]
    for _ in $(seq $((${3:-10} * 10))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# The exit status of background pid within seconds, or 124 (then it is
# killed).
wait_pid() { # pid seconds
    local pid=$1
    for _ in $(seq $(($2 * 10))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            return $?
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 124
}
