#!/usr/bin/env bash
# Courier-IMAP on 127.0.0.1 for the interop tests (imap-session/tests/sync_interop.rs and the
# async client's tests). Debian's courier-imap conflicts with dovecot-imapd (both provide
# imap-server), so courier-imap, courier-base and courier-authlib{,-userdb,daemon} are unpacked
# with `apt-get download` + `dpkg -x` into DIR/root; only libraries they link are installed
# normally. Courier's programs have their paths compiled in (/etc/courier, /run/courier,
# /usr/lib/courier-authlib), so they run in a private mount namespace (`unshare -m`) where
# those three directories are bind mounts of DIR/etc, DIR/run and DIR/root/usr/lib/courier-authlib:
# the host sees none of it except three empty mount-point directories created if missing.
# Courier has no CONDSTORE/QRESYNC/ENABLE: synchronisation runs the RFC 4549 fallback. Without
# FAM, IDLE polls the mailbox: every 5 s here (IMAP_IDLE_TIMEOUT; Debian's default is 60 s), so
# that the IDLE tests see another client's change within their time limit.
#
#   .ci/courier.sh start [DIR]   download/unpack if missing, generate the CA, certificate, users,
#                                start authdaemond and the two listeners, write DIR/env
#   .ci/courier.sh stop [DIR]    stop them
#
# DIR defaults to /tmp/imapwire-courier. The tests find DIR/env through IMAPWIRE_COURIER
# (`export IMAPWIRE_COURIER=DIR/env`); the file holds KEY=VALUE lines:
#   COURIER_HOST        127.0.0.1
#   COURIER_IMAP_PORT   STARTTLS listener (LOGIN/AUTHENTICATE only after STARTTLS)
#   COURIER_IMAPS_PORT  implicit TLS listener
#   COURIER_CA          PEM of the test CA that signed the server's certificate (127.0.0.1, localhost)
#   COURIER_USERS       comma-separated users (alice,bob,carol,dave,erin); COURIER_PASSWORD their
#                       common password; each has an empty Maildir
#   COURIER_MECHANISMS  the SASL mechanisms the server offers after TLS, comma-separated (LOGIN
#                       the command works too)
#   COURIER_DIR         DIR
#   COURIER_VERSION     the courier-imap package version
set -euo pipefail

CMD="${1:-start}"
DIR="${2:-/tmp/imapwire-courier}"
PASSWORD='pencil-7Qx'
USERS="alice bob carol dave erin"
MECHS="PLAIN LOGIN"
IMAP_PORT=15143
IMAPS_PORT=15993
PKGS="courier-imap courier-base courier-authlib courier-authdaemon courier-authlib-userdb"
ROOT="$DIR/root"
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=.ci/lib.sh
. "$(dirname "$SELF")/lib.sh"

stop() {
  local f
  for f in "$DIR"/pids/*; do
    [ -f "$f" ] || continue
    stop_pid "$(cat "$f")" 50
    rm -f "$f"
  done
}

# Runs inside the private mount namespace (called by `setup` through unshare).
launch() {
  mount --bind "$DIR/etc" /etc/courier
  mount --bind "$DIR/run" /run/courier
  mount --bind "$ROOT/usr/lib/courier-authlib" /usr/lib/courier-authlib
  export LD_LIBRARY_PATH="$ROOT/usr/lib:$ROOT/usr/lib/courier-authlib"
  # authdaemond stays in the foreground; it forks its workers itself.
  "$ROOT/usr/lib/courier/courier-authlib/authdaemond" >>"$DIR/log/authdaemond.log" 2>&1 &
  echo $! >"$DIR/pids/authdaemond"
  for _ in $(seq 1 100); do [ -S "$DIR/run/authdaemon/socket" ] && break; sleep 0.05; done
  set -a
  # shellcheck disable=SC1091
  . "$DIR/imapd.env"
  set +a
  local login="$ROOT/usr/lib/courier/courier/imaplogin" imapd="$ROOT/usr/bin/imapd"
  "$ROOT/usr/sbin/couriertcpd" -address=127.0.0.1 -maxprocs=100 -maxperip=100 \
    -nodnslookup -noidentlookup "$IMAP_PORT" "$login" "$imapd" Maildir \
    >>"$DIR/log/imap.log" 2>&1 &
  echo $! >"$DIR/pids/imap"
  IMAP_TLS=1 IMAP_STARTTLS=NO IMAP_TLS_REQUIRED=0 "$ROOT/usr/sbin/couriertcpd" -address=127.0.0.1 -maxprocs=100 -maxperip=100 \
    -nodnslookup -noidentlookup "$IMAPS_PORT" "$ROOT/usr/bin/couriertls" -server -tcpd \
    "$login" "$imapd" Maildir >>"$DIR/log/imaps.log" 2>&1 &
  echo $! >"$DIR/pids/imaps"
}

setup() {
  stop
  if ! have_libs libcourier-unicode.so.4 libidn.so.12 libltdl.so.7 libfam.so.0 libgdbm.so.6 \
    || ! command -v unshare >/dev/null; then
    apt_install libcourier-unicode4 libidn12 libltdl7 libgamin0 libgdbm6 libgnutls30 libpcre3 \
      util-linux openssl
  fi
  # shellcheck disable=SC2086
  fetch_debs $PKGS
  ensure_user imapwire
  # imaplogin runs couriertls for STARTTLS as the user "courier".
  ensure_user courier
  local uid gid
  uid="$(id -u imapwire)"
  gid="$(id -g imapwire)"

  rm -rf "$DIR"
  mkdir -p "$ROOT" "$DIR/tls" "$DIR/etc" "$DIR/run/authdaemon" "$DIR/log" "$DIR/pids" "$DIR/home"
  chmod 755 "$DIR" "$DIR/home"
  chmod 750 "$DIR/run/authdaemon"
  # shellcheck disable=SC2086
  unpack_debs "$ROOT" $PKGS
  local ver
  ver="$(deb_version courier-imap)"
  # The mount points of the namespace (empty directories; nothing is mounted on the host).
  mkdir -p /etc/courier /run/courier /usr/lib/courier-authlib

  # A test CA and a server certificate for 127.0.0.1/localhost that it signs; couriertls reads
  # key and certificate from one file.
  local t="$DIR/tls"
  make_test_ca "$t" "imapwire test CA (courier)"
  cat "$t/server.key" "$t/server.pem" >"$t/imapd.pem"
  chmod 600 "$t/imapd.pem"
  chown courier "$t/imapd.pem"
  install -o courier -m 600 /dev/null "$DIR/run/tlscache"

  # Users: a userdb (uid/gid/home/maildir) and its shadow (crypt(3) SHA-512 password), built
  # with the package's makedatprog; each user gets an empty Maildir.
  local hash u
  hash="$(openssl passwd -6 "$PASSWORD")"
  local makedat="$ROOT/usr/lib/courier/courier-authlib/makedatprog"
  {
    for u in $USERS; do
      printf '%s\tuid=%s|gid=%s|home=%s|mail=%s\n' "$u" "$uid" "$gid" "$DIR/home/$u" "$DIR/home/$u/Maildir"
    done
    echo .
  } | "$makedat" - "$DIR/etc/userdb.tmp" "$DIR/etc/userdb.dat"
  {
    for u in $USERS; do printf '%s\tsystempw=%s\n' "$u" "$hash"; done
    echo .
  } | "$makedat" - "$DIR/etc/userdbshadow.tmp" "$DIR/etc/userdbshadow.dat"
  chmod 600 "$DIR/etc/userdbshadow.dat"
  for u in $USERS; do
    mkdir -p "$DIR/home/$u/Maildir/cur" "$DIR/home/$u/Maildir/new" "$DIR/home/$u/Maildir/tmp"
    chown -R "$uid:$gid" "$DIR/home/$u"
  done

  cat >"$DIR/etc/authdaemonrc" <<EOF
authmodulelist="authuserdb"
daemons=3
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
EOF
  # The environment imaplogin/imapd read (what Debian's /etc/courier/imapd{,-ssl} set).
  local caps="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
  cat >"$DIR/imapd.env" <<EOF
IMAP_CAPABILITY="$caps"
IMAP_CAPABILITY_TLS="$caps AUTH=PLAIN AUTH=LOGIN"
IMAP_KEYWORDS=1
IMAP_ACL=1
IMAP_PROXY=0
IMAP_IDLE_TIMEOUT=5
IMAP_MAILBOX_SANITY_CHECK=1
IMAP_DISABLETHREADSORT=0
IMAP_CHECK_ALL_FOLDERS=0
IMAP_OBSOLETE_CLIENT=0
IMAP_UMASK=022
IMAP_USELOCKS=1
IMAP_ENHANCEDIDLE=0
IMAP_TRASHFOLDERNAME=Trash
IMAP_EMPTYTRASH=Trash:7
IMAP_MOVE_EXPUNGE_TO_TRASH=0
IMAP_SHAREDINDEXFILE=$DIR/etc/shared/index
HEADERFROM=X-IMAP-Sender
SENDMAIL=/bin/false
IMAP_STARTTLS=YES
IMAP_TLS_REQUIRED=1
COURIERTLS=$ROOT/usr/bin/couriertls
TLS_PROTOCOL=TLS1_2:TLS1_3
TLS_STARTTLS_PROTOCOL=TLS1_2:TLS1_3
TLS_CERTFILE=$t/imapd.pem
TLS_VERIFYPEER=NONE
TLS_CACHEFILE=$DIR/run/tlscache
TLS_CACHESIZE=524288
MAILDIRPATH=Maildir
EOF

  DIR="$DIR" unshare -m --propagation private "$SELF" launch "$DIR"
  local port
  for port in "$IMAP_PORT" "$IMAPS_PORT"; do
    if ! wait_port "$port"; then
      echo "courier did not open port $port; its logs:" >&2
      tail -n 50 "$DIR"/log/*.log >&2 || true
      return 1
    fi
  done

  {
    echo "COURIER_HOST=127.0.0.1"
    echo "COURIER_IMAP_PORT=$IMAP_PORT"
    echo "COURIER_IMAPS_PORT=$IMAPS_PORT"
    echo "COURIER_CA=$t/ca.pem"
    echo "COURIER_USERS=${USERS// /,}"
    echo "COURIER_PASSWORD=$PASSWORD"
    echo "COURIER_MECHANISMS=${MECHS// /,}"
    echo "COURIER_DIR=$DIR"
    echo "COURIER_VERSION=$ver"
  } >"$DIR/env"
  echo "courier-imap $ver on 127.0.0.1; export IMAPWIRE_COURIER=$DIR/env" >&2
}

case "$CMD" in
  start) setup ;;
  stop) stop ;;
  launch) launch ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
