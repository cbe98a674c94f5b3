#!/bin/sh
# Runs `skillsignal crawl` on a schedule, in the foreground (the crawler service's command).
#   CRAWL_URLS          start URLs (list pages or sitemap.xml), separated by spaces   (required)
#   CRAWL_INTERVAL      time from the start of one run to the start of the next: 3600, 90s, 30m, 6h, 1d
#                       (default 6h); a run that takes longer is followed by the next one at once
#   CRAWL_MAX_REQUESTS  request budget per run (default: SKILLSIGNAL_REQUEST_BUDGET)
#   CRAWL_ONCE          1 = run once and exit with the crawl's status (for cron or a manual run)
# A failed run is logged and the loop goes on; the crawl state under $SKILLSIGNAL_DATA_DIR/crawl lets an
# interrupted crawl resume.
set -u

if [ -z "${CRAWL_URLS:-}" ]; then
    echo "crawl-loop: set CRAWL_URLS to the start URLs (space-separated)" >&2
    exit 2
fi

to_seconds() {
    case "$1" in
        *[!0-9smhd]*|"") return 1 ;;
        *d) n=${1%d}; m=86400 ;;
        *h) n=${1%h}; m=3600 ;;
        *m) n=${1%m}; m=60 ;;
        *s) n=${1%s}; m=1 ;;
        *) n=$1; m=1 ;;
    esac
    case "$n" in ''|*[!0-9]*) return 1 ;; esac
    echo $((n * m))
}

interval=$(to_seconds "${CRAWL_INTERVAL:-6h}") || {
    echo "crawl-loop: CRAWL_INTERVAL=${CRAWL_INTERVAL} is not a duration like 3600, 30m, 6h or 1d" >&2
    exit 2
}

run_crawl() {
    # shellcheck disable=SC2086  # CRAWL_URLS is a space-separated list on purpose
    if [ -n "${CRAWL_MAX_REQUESTS:-}" ]; then
        skillsignal crawl --max-requests "$CRAWL_MAX_REQUESTS" $CRAWL_URLS
    else
        skillsignal crawl $CRAWL_URLS
    fi
}

if [ "${CRAWL_ONCE:-0}" = 1 ]; then
    run_crawl
    exit $?
fi

trap 'echo "crawl-loop: stopping"; exit 0' TERM INT
while :; do
    started=$(date +%s)
    echo "crawl-loop: crawl started at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    run_crawl
    status=$?
    [ "$status" -eq 0 ] || echo "crawl-loop: crawl failed (exit $status); the next run is as scheduled" >&2
    elapsed=$(( $(date +%s) - started ))
    wait_for=$(( interval - elapsed ))
    [ "$wait_for" -gt 0 ] || wait_for=0
    echo "crawl-loop: next crawl in ${wait_for}s"
    sleep "$wait_for" &
    wait $!
done
