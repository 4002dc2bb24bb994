#!/usr/bin/env bash
# Cyrus IMAP on 127.0.0.1 for the interop tests (imap-session/tests/sync_interop.rs and the
# async client's tests). Debian's cyrus-imapd conflicts with dovecot-imapd (both provide
# imap-server), so its .deb files are unpacked with `apt-get download` + `dpkg -x` into
# DIR/root and run from there with a config, data, sockets and pid file of our own under DIR;
# only the shared libraries it links are installed normally (they conflict with nothing).
#
#   .ci/cyrus.sh start [DIR]    download/unpack if missing, generate the CA, certificate, users,
#                               start the master process, write DIR/env
#   .ci/cyrus.sh stop [DIR]     stop it
#
# DIR defaults to /tmp/imapwire-cyrus. The tests find DIR/env through IMAPWIRE_CYRUS
# (`export IMAPWIRE_CYRUS=DIR/env`); the file holds KEY=VALUE lines:
#   CYRUS_HOST          127.0.0.1
#   CYRUS_IMAP_PORT     STARTTLS listener (LOGIN/AUTHENTICATE only after STARTTLS)
#   CYRUS_IMAPS_PORT    implicit TLS listener
#   CYRUS_CA            PEM of the test CA that signed the server's certificate (127.0.0.1, localhost)
#   CYRUS_USERS         comma-separated users (alice,bob,carol,dave,erin); CYRUS_PASSWORD their
#                       common password (stored in clear: every mechanism works); the INBOX
#                       is created at a user's first login
#   CYRUS_ADMIN         the admin user (cyrus), CYRUS_ADMIN_PASSWORD its password
#   CYRUS_MECHANISMS    the SASL mechanisms the server offers after TLS, comma-separated
#                       (before TLS it announces LOGINDISABLED and no AUTH=)
#   CYRUS_DIR           DIR
#   CYRUS_VERSION       the package version
set -euo pipefail

CMD="${1:-start}"
DIR="${2:-/tmp/imapwire-cyrus}"
PASSWORD='pencil-7Qx'
ADMIN_PASSWORD='admin-3Rv'
USERS="alice bob carol dave erin"
MECHS="PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256 CRAM-MD5 DIGEST-MD5"
# What the server announces after TLS: the list above plus the channel-binding variants.
OFFERED="PLAIN,LOGIN,SCRAM-SHA-1-PLUS,SCRAM-SHA-1,SCRAM-SHA-256-PLUS,SCRAM-SHA-256,CRAM-MD5,DIGEST-MD5"
IMAP_PORT=14143
IMAPS_PORT=14993
DEBS="${IMAPWIRE_DEB_CACHE:-/tmp/imapwire-debs}"
ROOT="$DIR/root"

stop() {
  local pidfile="$DIR/run/master.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

apt_locked() { flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive "$@"; }

setup() {
  stop
  # Libraries the unpacked binaries link (none of them conflicts with Dovecot) and saslpasswd2.
  local libs
  libs="$(ldconfig -p)"
  if ! command -v saslpasswd2 >/dev/null || ! grep -q 'libxapian.so.30' <<<"$libs" \
    || ! grep -q 'libical.so.3' <<<"$libs" || ! grep -q 'libpcreposix.so.3' <<<"$libs"; then
    apt_locked apt-get update -qq
    apt_locked apt-get install -y -qq --no-install-recommends libpcre3 libxapian30 libical3 \
      libsasl2-modules libsasl2-modules-db sasl2-bin openssl >/dev/null
  fi
  mkdir -p "$DEBS"
  if ! ls "$DEBS"/cyrus-imapd_*.deb "$DEBS"/cyrus-common_*.deb >/dev/null 2>&1; then
    (cd "$DEBS" && { apt_locked apt-get download cyrus-imapd cyrus-common >/dev/null 2>&1 \
      || { apt_locked apt-get update -qq && apt_locked apt-get download cyrus-imapd cyrus-common >/dev/null; }; })
  fi
  id cyrus >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cyrus

  rm -rf "$DIR"
  mkdir -p "$ROOT" "$DIR/tls" "$DIR/run"
  chmod 755 "$DIR"
  for d in "$DEBS"/cyrus-imapd_*.deb "$DEBS"/cyrus-common_*.deb; do dpkg -x "$d" "$ROOT"; done
  local bin="$ROOT/usr/lib/cyrus/bin"
  local ver
  ver="$(dpkg-deb -f "$(ls "$DEBS"/cyrus-imapd_*.deb | head -1)" Version)"

  # A test CA and a server certificate for 127.0.0.1/localhost that it signs.
  local t="$DIR/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=imapwire test CA (cyrus)" -keyout "$t/ca.key" -out "$t/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
    -days 30 -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
  chmod 644 "$t"/*.pem
  chown cyrus "$t/server.key"

  # Users in a private sasldb (stored in clear by saslpasswd2: every mechanism works).
  for u in $USERS; do printf '%s' "$PASSWORD" | saslpasswd2 -p -c -f "$DIR/sasldb2" -u localhost "$u"; done
  printf '%s' "$ADMIN_PASSWORD" | saslpasswd2 -p -c -f "$DIR/sasldb2" -u localhost cyrus
  mkdir -p "$DIR/lib" "$DIR/spool" "$DIR/sieve" "$DIR/socket" "$DIR/proc" "$DIR/log"
  chown -R cyrus "$DIR/lib" "$DIR/spool" "$DIR/sieve" "$DIR/socket" "$DIR/proc" "$DIR/log" "$DIR/run" "$DIR/sasldb2"

  cat >"$DIR/imapd.conf" <<EOF
# Generated by .ci/cyrus.sh for the imapwire interop tests.
configdirectory: $DIR/lib
partition-default: $DIR/spool
sievedir: $DIR/sieve
proc_path: $DIR/proc
mboxname_lockpath: $DIR/lib/lock
idlesocket: $DIR/socket/idle
notifysocket: $DIR/socket/notify
lmtpsocket: $DIR/socket/lmtp
servername: localhost
defaultdomain: localhost
admins: cyrus
unixhierarchysep: yes
altnamespace: yes
autocreate_quota: 0
syslog_prefix: imapwire-cyrus
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $DIR/sasldb2
sasl_mech_list: $MECHS
allowplaintext: no
tls_server_cert: $t/server.pem
tls_server_key: $t/server.key
tls_versions: tls1_2 tls1_3
EOF
  cat >"$DIR/cyrus.conf" <<EOF
START {
  recover cmd="$bin/ctl_cyrusdb -C $DIR/imapd.conf -r"
}
SERVICES {
  imap  cmd="$bin/imapd -C $DIR/imapd.conf" listen="127.0.0.1:$IMAP_PORT" prefork=1
  imaps cmd="$bin/imapd -s -C $DIR/imapd.conf" listen="127.0.0.1:$IMAPS_PORT" prefork=1
}
EVENTS {
}
DAEMON {
}
EOF
  LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu" \
    "$bin/master" -C "$DIR/imapd.conf" -M "$DIR/cyrus.conf" -p "$DIR/run/master.pid" -d \
    >"$DIR/log/master.log" 2>&1
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$IMAPS_PORT") 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$IMAPS_PORT") 2>/dev/null; then
    echo "cyrus did not open port $IMAPS_PORT; its log:" >&2
    cat "$DIR/log/master.log" >&2 || true
    return 1
  fi

  {
    echo "CYRUS_HOST=127.0.0.1"
    echo "CYRUS_IMAP_PORT=$IMAP_PORT"
    echo "CYRUS_IMAPS_PORT=$IMAPS_PORT"
    echo "CYRUS_CA=$t/ca.pem"
    echo "CYRUS_USERS=${USERS// /,}"
    echo "CYRUS_PASSWORD=$PASSWORD"
    echo "CYRUS_ADMIN=cyrus"
    echo "CYRUS_ADMIN_PASSWORD=$ADMIN_PASSWORD"
    echo "CYRUS_MECHANISMS=$OFFERED"
    echo "CYRUS_DIR=$DIR"
    echo "CYRUS_VERSION=$ver"
  } >"$DIR/env"
  echo "cyrus-imapd $ver on 127.0.0.1; export IMAPWIRE_CYRUS=$DIR/env" >&2
}

case "$CMD" in
  start) setup ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
