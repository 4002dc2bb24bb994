#!/usr/bin/env bash
# Real mail clients for the example-server tests (imap-tokio/tests/real_clients.rs): isync
# (mbsync) and fetchmail from Debian's packages; curl and python3 are on the machine. Sourced
# by .ci/run, it exports where each program is (the tests read IMAPWIRE_MBSYNC,
# IMAPWIRE_FETCHMAIL, IMAPWIRE_CURL, IMAPWIRE_PYTHON; with IMAPWIRE_REQUIRE_INTEROP=1 a
# missing one fails the test).
if ! command -v mbsync >/dev/null 2>&1 || ! command -v fetchmail >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends isync fetchmail >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends isync fetchmail >/dev/null; }
  fi
fi
IMAPWIRE_MBSYNC="$(command -v mbsync || true)"
IMAPWIRE_FETCHMAIL="$(command -v fetchmail || true)"
IMAPWIRE_CURL="$(command -v curl || true)"
IMAPWIRE_PYTHON="$(command -v python3 || true)"
export IMAPWIRE_MBSYNC IMAPWIRE_FETCHMAIL IMAPWIRE_CURL IMAPWIRE_PYTHON
