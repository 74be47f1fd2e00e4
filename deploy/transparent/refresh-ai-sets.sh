#!/usr/bin/env bash
# Resolves every AI host in pupilguard's catalogue and adds its current addresses to the nftables sets
# used by nftables.conf. Entries time out after an hour, so addresses a CDN stops using age out.
set -euo pipefail
PUPILGUARD=${PUPILGUARD:-/opt/pupilguard/.venv/bin/pupilguard}
for host in $("$PUPILGUARD" pac --hosts); do
  case "$host" in *'*'*) continue ;; esac   # wildcard entries cannot be resolved; explicit mode covers them
  for addr in $(getent ahostsv4 "$host" | awk '{print $1}' | sort -u); do
    nft add element inet pupilguard ai_v4 "{ $addr }"
  done
  for addr in $(getent ahostsv6 "$host" | awk '{print $1}' | sort -u); do
    nft add element inet pupilguard ai_v6 "{ $addr }"
  done
done
