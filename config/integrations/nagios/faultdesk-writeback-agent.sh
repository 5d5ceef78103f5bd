#!/bin/sh
# faultdesk-writeback-agent.sh: writes faultdesk's acknowledgements into Nagios.
#
# Runs on the Nagios host, from cron or a systemd timer (see
# faultdesk-writeback-agent.service and .timer next to it). Each run fetches the
# external commands faultdesk has waiting (GET /api/v1/writeback/nagios, one
# "ID<TAB>COMMAND" per line), writes each one to Nagios' command file, and
# confirms it (POST /api/v1/writeback/nagios/ID/done). A command that was written
# but not confirmed (the run died in between) is fetched and written again next
# time; an acknowledgement written twice does no harm.
#
# Settings, from the environment (or an EnvironmentFile / /etc/default file):
#   FAULTDESK_URL          faultdesk's base URL, e.g. https://faultdesk.example.com
#   FAULTDESK_TOKEN_FILE   file holding writeback.nagios.agent_token (kept off the command line)
#   NAGIOS_COMMAND_FILE    Nagios' command_file (default /var/lib/nagios4/rw/nagios.cmd)
#   FAULTDESK_AGENT_MAX_TIME  seconds per request (default 20)
#
# faultdesk cleans every command before it queues it (one line, no ";" in author
# or comment); this script checks that each line still looks like an external
# command and writes it with printf, never through eval.
set -u

url=${FAULTDESK_URL:?set FAULTDESK_URL}
url=${url%/}
token_file=${FAULTDESK_TOKEN_FILE:?set FAULTDESK_TOKEN_FILE}
cmd_file=${NAGIOS_COMMAND_FILE:-/var/lib/nagios4/rw/nagios.cmd}
max_time=${FAULTDESK_AGENT_MAX_TIME:-20}

[ -r "$token_file" ] || { echo "faultdesk-writeback-agent: cannot read $token_file" >&2; exit 2; }
# Nagios makes its command file (a FIFO) when it starts; without it nothing can be written now.
[ -p "$cmd_file" ] || [ -f "$cmd_file" ] || { echo "faultdesk-writeback-agent: $cmd_file does not exist (is Nagios running?)" >&2; exit 1; }

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/faultdesk-agent.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
# The token goes to curl in a header file, so it never shows in ps.
printf 'Authorization: Bearer %s\n' "$(cat "$token_file")" > "$work/auth"

if ! curl -fsS --max-time "$max_time" -H @"$work/auth" -H 'Accept: text/plain' \
    "$url/api/v1/writeback/nagios?format=text" -o "$work/commands"; then
    echo "faultdesk-writeback-agent: could not fetch commands from $url" >&2
    exit 1
fi

tab=$(printf '\t')
status=0
while IFS="$tab" read -r id line; do
    case "$id" in '' | *[!0-9]*) echo "faultdesk-writeback-agent: skipping a malformed line" >&2; status=1; continue ;; esac
    case "$line" in
        '['[0-9]*'] ACKNOWLEDGE_SVC_PROBLEM;'* | '['[0-9]*'] ACKNOWLEDGE_HOST_PROBLEM;'* | \
        '['[0-9]*'] REMOVE_SVC_ACKNOWLEDGEMENT;'* | '['[0-9]*'] REMOVE_HOST_ACKNOWLEDGEMENT;'*) ;;
        *) echo "faultdesk-writeback-agent: refusing command $id: not an acknowledgement" >&2; status=1; continue ;;
    esac
    if ! printf '%s\n' "$line" >> "$cmd_file"; then
        echo "faultdesk-writeback-agent: cannot write to $cmd_file" >&2
        exit 1
    fi
    if ! curl -fsS --max-time "$max_time" -H @"$work/auth" -X POST -o /dev/null "$url/api/v1/writeback/nagios/$id/done"; then
        echo "faultdesk-writeback-agent: wrote command $id but could not confirm it; it is written again next run" >&2
        status=1
    fi
done < "$work/commands"
exit "$status"
