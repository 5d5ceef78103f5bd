#!/bin/sh
# Makes the secrets compose.yaml uses, in the folder secrets/ beside this script (wherever it is
# run from): random tokens for the monitoring sources and the admin API, a database password, and
# secrets/store.env with the store URL for faultdesk. Keeps the secrets that already exist, so it
# can be run again; remove a file to make a new one.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)/secrets
# The folder is private; the files in it are readable by all, because compose mounts each file
# as it is into containers that run as other users (faultdesk as uid 1000, postgres as 999).
mkdir -p "$dir"
chmod 700 "$dir"

random() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
for name in faultdesk-source-token faultdesk-admin-token postgres-password; do
  if [ ! -s "$dir/$name" ]; then
    (umask 022 && random >"$dir/$name" && echo >>"$dir/$name")
    echo "made $dir/$name"
  fi
done
password=$(cat "$dir/postgres-password")
(umask 077 && printf 'FAULTDESK_STORE_URL=postgres://faultdesk:%s@postgres:5432/faultdesk\n' "$password" >"$dir/store.env")
echo "made $dir/store.env"
