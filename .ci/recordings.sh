#!/usr/bin/env bash
# Decodes what the real servers sent during the interop tests (issue 15's matrix, issue 10's
# "dissect decodes real Dovecot, Cyrus and Courier output"). The tests write one file per
# connection under DIR/<server>/ when IMAPWIRE_RECORD_DIR=DIR (tests/common/servers.rs,
# imap-tokio/tests/sync_interop.rs: the client session's received tap, so the bytes after TLS
# and decompression); every file is decoded with `dissect --server` (lenient) and must have
# zero failures. Each server must have recordings: a run that recorded nothing fails. The
# session of examples/captures/record_server.py (server errors provoked on purpose) is recorded
# here too, before decoding (issue 10: "including sessions that provoke server errors").
#
#   .ci/recordings.sh DIR
#
# Prints per server: files, messages, bytes, tolerated defects (warnings), failures; on a
# failure, the failing lines and the file (kept for the known-answer case).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:?usage: $0 DIR}"
# shellcheck source=.ci/lib.sh
. .ci/lib.sh
DISSECT="$(cargo_target_dir)/release/examples/dissect"
# `cargo test --workspace --release` has built it; building again could rebuild it with other
# unified features (minutes).
[ -x "$DISSECT" ] || cargo build --release --example dissect
failed=0
# Besides the tests' connections: one session per server that provokes errors on purpose
# (examples/captures/record_server.py: unknown commands, bad arguments, missing mailboxes, a
# bad charset, a bad sequence set, and every FETCH item), over implicit TLS, as alice. Its
# scratch mailbox goes under the personal namespace (Courier's is `INBOX.`).
for server in dovecot cyrus courier; do
  var="IMAPWIRE_${server^^}"
  envfile="${!var:-}"
  if [ -z "$envfile" ] || [ ! -f "$envfile" ]; then
    echo "recordings: $var is not set to an env file: no provoking session for $server" >&2
    failed=1
    continue
  fi
  P="${server^^}"
  port="$(sed -n "s/^${P}_IMAPS_PORT=//p" "$envfile")"
  ca="$(sed -n "s/^${P}_CA=//p" "$envfile")"
  password="$(sed -n "s/^${P}_PASSWORD=//p" "$envfile")"
  box=imapwire-capture
  [ "$server" = courier ] && box=INBOX.imapwire-capture
  mkdir -p "$DIR/$server"
  if ! timeout 120 python3 examples/captures/record_server.py 127.0.0.1 "$port" alice \
      "$password" "$DIR/$server/provoking-session.imap" --tls "$ca" --mailbox "$box" \
      2>"$DIR/$server/provoking-session.log"; then
    echo "recordings: the provoking session against $server failed:" >&2
    tail -n 5 "$DIR/$server/provoking-session.log" >&2
    failed=1
  fi
done
for server in dovecot cyrus courier; do
  files=0 empty=0 msgs=0 bytes=0 warns=0 fails=0
  shopt -s nullglob
  for f in "$DIR/$server"/*.imap; do
    if [ ! -s "$f" ]; then
      # A connection refused before the greeting (the certificate tests) received nothing.
      empty=$((empty + 1))
      continue
    fi
    files=$((files + 1))
    out="$("$DISSECT" --server "$f" || true)"
    last="$(tail -n 1 <<<"$out")"
    # "N messages, B bytes, F failures"
    if ! [[ "$last" =~ ^([0-9]+)\ messages,\ ([0-9]+)\ bytes,\ ([0-9]+)\ failures$ ]]; then
      echo "recordings: $f: unexpected dissect output: $last" >&2
      fails=$((fails + 1))
      continue
    fi
    msgs=$((msgs + BASH_REMATCH[1]))
    bytes=$((bytes + BASH_REMATCH[2]))
    fails=$((fails + BASH_REMATCH[3]))
    warns=$((warns + $(grep -c ' warning: ' <<<"$out" || true)))
    if [ "${BASH_REMATCH[3]}" != 0 ]; then
      echo "recordings: $f:" >&2
      grep ' FAILED ' <<<"$out" | head -n 20 >&2
    fi
  done
  echo "recordings: $server: $files connections ($empty empty), $msgs messages, $bytes bytes, $warns warnings, $fails failures"
  if [ "$files" = 0 ] || [ "$msgs" = 0 ]; then
    echo "recordings: nothing recorded from $server (is IMAPWIRE_RECORD_DIR exported before the tests?)" >&2
    failed=1
  fi
  [ "$fails" = 0 ] || failed=1
done
exit "$failed"
