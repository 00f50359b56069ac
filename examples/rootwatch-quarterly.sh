#!/usr/bin/env bash
# rootwatch-quarterly.sh: the quarterly evidence run, headless. cron, the systemd unit and the CI
# workflow all call this one script, so the logic lives once (examples/README.md).
#
#   examples/rootwatch-quarterly.sh [PARAMS.yaml] [extra 'rootwatch run' arguments, e.g. --set profile=]
#
# It runs `rootwatch run PARAMS --quiet --log-format json --set window=<previous quarter>` into a new
# bundle directory, verifies the bundle, and exits with rootwatch's own exit code:
#   0 PASS  1 FAIL  3 evidence gaps  2 bad input  4 could not complete  130/143 interrupted.
# The wrapper adds only two cases of its own, both exit 4 and both named on stderr and in the log:
# another run holds the lock, or the new bundle does not verify.
#
# stdout: rootwatch's one-line summary, then the verified bundle's path (only when there is one).
# stderr: short human lines. The log, one JSON object per line: $ROOTWATCH_LOG_DIR/<run-id>.jsonl.
#
# Settings, all optional, from the environment (no credentials here: see examples/README.md):
#   ROOTWATCH_PARAMS       parameter file when no argument is given (default parameters/quarterly.yaml)
#   ROOTWATCH_WINDOW       the window (default: the quarter before ROOTWATCH_TODAY, e.g. 2026-Q3)
#   ROOTWATCH_TODAY        YYYY-MM-DD the previous quarter is computed from (default: today, UTC)
#   ROOTWATCH_REPORTS      where bundles go (default ./reports); ROOTWATCH_LOG_DIR (default $ROOTWATCH_REPORTS/logs)
#   ROOTWATCH_LOCK         lock file (default $ROOTWATCH_REPORTS/.rootwatch-quarterly.lock)
#   ROOTWATCH_LOCK_WAIT    seconds to wait for the lock (default 0: give up at once, exit 4)
#   ROOTWATCH_BIN          the rootwatch command (default: rootwatch on PATH, else the checkout's .venv)
#   ROOTWATCH_TRUSTED_KEY  the signer the new bundle must verify with (rootwatch verify --trusted-key): the
#   ROOTWATCH_TRUSTED_CA   signing key's .pub, the X.509 CA or signer certificate (--trusted-ca), the KMS
#   ROOTWATCH_TRUSTED_KMS  key's public key (--trusted-kms). None set: verify --no-pin checks integrity only
#   ROOTWATCH_OUTPUT_FILE  append key=value results here (exit, window, run_id, log, summary, bundle),
#                          e.g. "$GITHUB_OUTPUT"
#   ROOTWATCH_DRY_RUN=1    print the rootwatch command and exit 0, running nothing
# Relative paths are taken from the working directory, which each scheduler sets.
set -euo pipefail
umask 027  # bundles hold account ids and raw API responses: not world-readable

me=rootwatch-quarterly
say() { printf '%s: %s\n' "$me" "$*" >&2; }

# One JSON object per line, like rootwatch's own records, so the log file stays machine-readable.
json_string() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$(printf '%s' "$s" | tr '\001-\037' ' ')"  # control characters are not allowed in JSON
}
record() {  # record LEVEL EVENT MESSAGE [KEY VALUE]...: one line appended to the log
    local line value
    line="{\"time\": \"$(date -u +%Y-%m-%dT%H:%M:%S+00:00)\", \"level\": \"$1\", \"event\": \"$2\""
    line+=", \"message\": $(json_string "$me: $3"), \"wrapper\": \"$me\""
    shift 3
    while [ "$#" -ge 2 ]; do
        value=$2
        [[ $value =~ ^(true|false|[0-9]+)$ ]] || value=$(json_string "$value")
        line+=", $(json_string "$1"): $value"
        shift 2
    done
    printf '%s}\n' "$line" >>"$log_file"
}
output() {  # output KEY VALUE: for CI (GITHUB_OUTPUT format); values are single lines
    if [ -n "${ROOTWATCH_OUTPUT_FILE:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$ROOTWATCH_OUTPUT_FILE"; fi
}
usage_error() { say "$1"; exit 2; }

case "${1:-}" in
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
esac

params=${ROOTWATCH_PARAMS:-parameters/quarterly.yaml}
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then params=$1; shift; fi
[ -f "$params" ] || usage_error "no parameter file $params; copy parameters/quarterly.example.yaml to it and edit it"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${ROOTWATCH_BIN:-$(command -v rootwatch || printf '%s' "$(dirname "$here")/.venv/bin/rootwatch")}
[ -x "$bin" ] || command -v "$bin" >/dev/null 2>&1 ||
    usage_error "rootwatch not found ($bin); install it (make install) or set ROOTWATCH_BIN"

# A pin that cannot be read is a setting to fix, found before the quarter's run rather than after it.
for pin in ROOTWATCH_TRUSTED_KEY ROOTWATCH_TRUSTED_CA ROOTWATCH_TRUSTED_KMS; do
    if [ -n "${!pin:-}" ] && [ ! -r "${!pin}" ]; then
        usage_error "$pin=${!pin} cannot be read; give the signer's public key (or certificate) file, or unset it"
    fi
done

# The previous quarter: a run on 2027-01-02 collects 2026-Q4. Scheduled on the 2nd, not the 1st, so
# CloudTrail has delivered the quarter's last events (minutes late, more across regions).
window=${ROOTWATCH_WINDOW:-}
if [ -z "$window" ]; then
    today=${ROOTWATCH_TODAY:-$(date -u +%Y-%m-%d)}
    [[ $today =~ ^([0-9]{4})-(0[1-9]|1[0-2])-[0-3][0-9]$ ]] || usage_error "ROOTWATCH_TODAY=$today is not YYYY-MM-DD"
    year=${BASH_REMATCH[1]}
    quarter=$(( (10#${BASH_REMATCH[2]} - 1) / 3 ))  # 0..3: the previous quarter's number, 0 meaning last year's Q4
    if [ "$quarter" -eq 0 ]; then quarter=4; year=$((year - 1)); fi
    window="$year-Q$quarter"
fi

absolute() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
reports=$(absolute "${ROOTWATCH_REPORTS:-reports}")  # absolute, so the printed path works from anywhere
logs=$(absolute "${ROOTWATCH_LOG_DIR:-$reports/logs}")
name=$(basename "$params"); name=${name%.*}
slug=$(printf '%s-%s' "$name" "$window" | tr -cs 'A-Za-z0-9' '-'); slug=${slug%-}
run_id="$(date -u +%Y%m%dT%H%M%SZ)-$slug"
command_for() { cmd=("$bin" run "$params" --out "$reports/$run_id" --quiet --log-format json --set "window=$window" "$@"); }

if [ -n "${ROOTWATCH_DRY_RUN:-}" ]; then
    command_for "$@"
    printf '%q ' "${cmd[@]}"; printf '\n'
    exit 0
fi

mkdir -p "$reports" "$logs"
log_file="$logs/$run_id.jsonl"
output window "$window"

# One run at a time, whichever scheduler started it (a manual run included). fd 9 holds the lock
# for this script's lifetime and is closed for rootwatch, so a leftover child never keeps it.
command -v flock >/dev/null 2>&1 || usage_error "flock (util-linux) is needed for the run lock"
lock=${ROOTWATCH_LOCK:-$reports/.rootwatch-quarterly.lock}
exec 9>>"$lock"
if ! flock -w "${ROOTWATCH_LOCK_WAIT:-0}" 9; then
    say "another run holds $lock; nothing done, exit 4 (retry later)"
    record error lock "another run holds $lock; nothing done" lock "$lock"
    output log "$log_file"; output exit 4
    exit 4
fi

# A new directory: rootwatch never writes into an existing one (two runs in one second, a rerun).
base=$run_id
n=1
while [ -e "$reports/$run_id" ] || [ -e "$reports/$run_id.incomplete" ] || [ -e "$logs/$run_id.jsonl" ]; do
    n=$((n + 1)); run_id="$base-$n"
done
out="$reports/$run_id"
log_file="$logs/$run_id.jsonl"
command_for "$@"
output run_id "$run_id"; output log "$log_file"

# rootwatch runs in its own process group (set -m) so a terminal's Ctrl-C reaches it once, through
# the trap below, not twice; SIGINT/SIGTERM sent to this script are passed on, and rootwatch leaves
# <run-id>.incomplete, unsigned, and exits 130/143. (The systemd unit uses KillMode=mixed for this.)
child=""
signalled=""
# shellcheck disable=SC2329  # called by the traps
forward() {
    signalled=$1
    if [ -n "$child" ]; then kill -s "$1" "$child" 2>/dev/null || true; fi
}
trap 'forward INT' INT
trap 'forward TERM' TERM

say "run $run_id: window $window, parameters $params, log $log_file"
set -m
"${cmd[@]}" </dev/null >"$logs/$run_id.out" 2>>"$log_file" 9>&- &
child=$!
set +m
if [ -n "$signalled" ]; then kill -s "$signalled" "$child"; signalled=""; fi  # came before rootwatch started
rc=0
wait "$child" || rc=$?
while [ -n "$signalled" ]; do  # a signal interrupted `wait`: wait for rootwatch's own exit code
    signalled=""
    again=0
    wait "$child" || again=$?
    if [ "$again" -ne 127 ]; then rc=$again; fi  # 127: its code was already collected, rc has it
done
trap - INT TERM

summary=$(tail -n 1 "$logs/$run_id.out")
if [ -n "$summary" ]; then printf '%s\n' "$summary"; output summary "$summary"; fi

case $rc in
    0|1|3)
        # Pinned to the signer this site configured; without one, integrity only (--no-pin), said in the log.
        verify=("$bin" verify "$out")
        if [ -n "${ROOTWATCH_TRUSTED_KEY:-}" ]; then verify+=(--trusted-key "$ROOTWATCH_TRUSTED_KEY"); fi
        if [ -n "${ROOTWATCH_TRUSTED_CA:-}" ]; then verify+=(--trusted-ca "$ROOTWATCH_TRUSTED_CA"); fi
        if [ -n "${ROOTWATCH_TRUSTED_KMS:-}" ]; then verify+=(--trusted-kms "$ROOTWATCH_TRUSTED_KMS"); fi
        pinned=true
        if [ "${#verify[@]}" -eq 3 ]; then verify+=(--no-pin); pinned=false; fi
        if [ -d "$out" ] && "${verify[@]}" </dev/null >"$logs/$run_id.verify.txt" 2>&1; then
            if [ "$pinned" = true ]; then
                say "bundle $out verified"
            else
                say "bundle $out: integrity intact; signer not pinned (set ROOTWATCH_TRUSTED_KEY, _CA or _KMS)"
            fi
            record info verify "bundle $out verified (signer pinned: $pinned)" bundle "$out" verified true \
                pinned "$pinned"
            printf '%s\n' "$out"
            output bundle "$out"
        else
            # Not evidence, whatever it says: report it as a run that could not complete.
            [ -d "$out" ] || echo "rootwatch exited $rc but made no $out" >>"$logs/$run_id.verify.txt"
            say "bundle $out does NOT verify (see $logs/$run_id.verify.txt); exit 4 instead of $rc"
            record error verify "bundle $out does not verify; exit 4 instead of $rc" bundle "$out" verified false \
                pinned "$pinned"
            rc=4
        fi ;;
    2) say "bad input, nothing written (see the log)" ;;
    *) if [ -d "$out.incomplete" ]; then say "the partial run is $out.incomplete (not evidence, not signed)"; fi ;;
esac
case $rc in
    0|1|3) say "exit $rc" ;;  # the summary line says why
    *) say "exit $rc; the log's last lines:"; tail -n 3 "$log_file" >&2 || true ;;
esac
output exit "$rc"
exit "$rc"
