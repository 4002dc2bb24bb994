#!/usr/bin/env bash
# Dovecot on 127.0.0.1 for the interop tests (tests/interop.rs and the example
# client's tests). Debian's dovecot-imapd (2.3.19 on Debian 12), run as root with a config of
# our own (no /etc/dovecot), everything under one directory:
#
#   .ci/dovecot.sh start [DIR]      install if missing, generate the CA, certificates, users and
#                                   tokens, start every instance, write DIR/env
#   .ci/dovecot.sh stop [DIR]       stop every instance
#   .ci/dovecot.sh stop-instance NAME [DIR] / start-instance NAME [DIR]
#                                   (the tests restart or stop one instance with these)
#
# DIR defaults to /tmp/imapwire-dovecot. The tests find DIR/env through the environment variable
# IMAPWIRE_DOVECOT (`export IMAPWIRE_DOVECOT=DIR/env`); the file holds KEY=VALUE lines:
#   DOVECOT_HOST                 127.0.0.1
#   DOVECOT_IMAP_PORT            STARTTLS listener of the "main" instance (CA-signed certificate)
#   DOVECOT_IMAPS_PORT           implicit TLS listener of "main"
#   DOVECOT_CA                   PEM of the test CA that signed main's certificate
#   DOVECOT_SELFSIGNED_PORT      implicit TLS listener of "selfsigned" (a self-signed certificate)
#   DOVECOT_SELFSIGNED_STARTTLS_PORT  its STARTTLS listener
#   DOVECOT_SELFSIGNED_FINGERPRINT    sha256:HEX of that certificate's DER
#   DOVECOT_RESTART_PORT         implicit TLS listener of "restart" (CA-signed; tests restart it)
#   DOVECOT_DOOMED_PORT          implicit TLS listener of "doomed" (CA-signed; tests stop it for good)
#   DOVECOT_CTL                  this script; `$DOVECOT_CTL stop-instance NAME DIR`
#   DOVECOT_DIR                  DIR
#   DOVECOT_USERS                comma-separated users; DOVECOT_PASSWORD their common password
#     alice: stored {PLAIN}: every mechanism works (PLAIN, LOGIN, SCRAM-SHA-1, SCRAM-SHA-256,
#            CRAM-MD5; XOAUTH2 and OAUTHBEARER with a token)
#     bob:   stored {SCRAM-SHA-256}: SCRAM-SHA-256, PLAIN and LOGIN work
#     carol: stored {CRAM-MD5}: CRAM-MD5, PLAIN and LOGIN work
#     dave, erin: {PLAIN}, spare accounts so tests that change mailboxes do not collide
#   DOVECOT_MECHANISMS           the SASL mechanisms the server offers, comma-separated
#   DOVECOT_JWT_KEY              base64 of the HS256 key the oauth2 passdb validates with
#                                (introspection_mode = local; no token service)
#   DOVECOT_TOKEN_<USER>         a ready JWT (sub=<user>, valid 2 days) for each user
#   DOVECOT_TOKEN_EXPIRED_ALICE  a correctly signed JWT for alice that expired an hour ago
set -euo pipefail

CMD="${1:-start}"
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=.ci/lib.sh
. "$(dirname "$SELF")/lib.sh"
case "$CMD" in
  start-instance|stop-instance) NAME="${2:?instance name}"; DIR="${3:-/tmp/imapwire-dovecot}" ;;
  *) DIR="${2:-/tmp/imapwire-dovecot}" ;;
esac

PASSWORD='pencil-7Qx'
USERS="alice bob carol dave erin"
MECHS="plain login scram-sha-1 scram-sha-256 cram-md5 xoauth2 oauthbearer"
# name:starttls-port:implicit-port:certificate
INSTANCES="main:10143:10993:ca selfsigned:11143:11993:self restart:12143:12993:ca doomed:13143:13993:ca"

instance_conf() { echo "$DIR/$1/dovecot.conf"; }

start_instance() {
  local name="$1"
  dovecot -c "$(instance_conf "$name")"
  # Wait until the implicit TLS port answers.
  local port
  port="$(grep -E "^$name:" <<<"$(tr ' ' '\n' <<<"$INSTANCES")" | cut -d: -f3)"
  wait_port "$port" && return 0
  echo "dovecot instance $name did not open port $port; its log:" >&2
  cat "$DIR/$name/dovecot.log" >&2 || true
  return 1
}

stop_instance() {
  local conf
  conf="$(instance_conf "$1")"
  [ -f "$conf" ] || return 0
  doveadm -c "$conf" stop 2>/dev/null || true
  # doveadm stop returns once the master got the signal; wait for the master to be gone.
  local pidfile="$DIR/$1/run/master.pid"
  for _ in $(seq 1 100); do
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null || return 0
    sleep 0.1
  done
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt SUB EXP_OFFSET_SECONDS IAT_OFFSET_SECONDS: an HS256 JWT signed with $DIR/jwt.key.
jwt() {
  local now header body sig
  now="$(date +%s)"
  header="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)"
  body="$(printf '{"sub":"%s","iat":%d,"exp":%d,"iss":"imapwire-test"}' "$1" "$((now + $3))" "$((now + $2))" | b64url)"
  sig="$(printf '%s.%s' "$header" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(cat "$DIR/jwt.key.hex")" -binary | b64url)"
  printf '%s.%s.%s' "$header" "$body" "$sig"
}

setup() {
  command -v dovecot >/dev/null 2>&1 || apt_install dovecot-imapd openssl
  # Debian's package may have started the system instance (ports 143/993); we use our own.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop dovecot 2>/dev/null || true; fi
  ensure_user imapwire

  for inst in $INSTANCES; do stop_instance "${inst%%:*}"; done
  rm -rf "$DIR"
  mkdir -p "$DIR/tls"
  chmod 755 "$DIR"

  # A test CA and a server certificate for 127.0.0.1/localhost that it signs; a self-signed one.
  local t="$DIR/tls"
  make_test_ca "$t" "imapwire test CA"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=imapwire self-signed" -keyout "$t/self.key" -out "$t/self.pem" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
  local fingerprint
  fingerprint="sha256:$(openssl x509 -in "$t/self.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)"
  chmod 644 "$t/self.pem"

  # Users: one passwd-file; the hashed schemes come from doveadm pw.
  local p="$DIR/passwd"
  : >"$p"
  for u in $USERS; do
    case "$u" in
      bob) echo "$u:$(doveadm pw -s SCRAM-SHA-256 -p "$PASSWORD")" >>"$p" ;;
      carol) echo "$u:$(doveadm pw -s CRAM-MD5 -p "$PASSWORD")" >>"$p" ;;
      *) echo "$u:{PLAIN}$PASSWORD" >>"$p" ;;
    esac
  done
  chmod 640 "$p"
  chgrp dovecot "$p"

  # The oauth2 passdb validates HS256 JWTs with a key looked up in a dict:
  # shared/<azp, default "default">/<alg>/<kid, default "default">, base64 of the key.
  openssl rand -out "$DIR/jwt.key" 32
  od -An -tx1 "$DIR/jwt.key" | tr -d ' \n' >"$DIR/jwt.key.hex"
  local key_b64
  key_b64="$(openssl base64 -A <"$DIR/jwt.key")"
  mkdir -p "$DIR/keys/default/HS256"
  printf '%s' "$key_b64" >"$DIR/keys/default/HS256/default"
  chmod -R a+rX "$DIR/keys"
  cat >"$DIR/oauth2.conf.ext" <<EOF
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$DIR/keys/
username_attribute = sub
issuers = imapwire-test
EOF

  for inst in $INSTANCES; do
    IFS=: read -r name plain_port tls_port cert <<<"$inst"
    mkdir -p "$DIR/$name/mail"
    chown imapwire:imapwire "$DIR/$name/mail"
    local crt="$t/server.pem" key="$t/server.key"
    if [ "$cert" = self ]; then crt="$t/self.pem"; key="$t/self.key"; fi
    cat >"$DIR/$name/dovecot.conf" <<EOF
# Generated by .ci/dovecot.sh for the imapwire interop tests.
base_dir = $DIR/$name/run
state_dir = $DIR/$name/state
instance_name = imapwire-$name
log_path = $DIR/$name/dovecot.log
protocols = imap
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <$crt
ssl_key = <$key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes

auth_mechanisms = $MECHS
auth_failure_delay = 0
first_valid_uid = 1
mail_uid = imapwire
mail_gid = imapwire
mail_location = maildir:$DIR/$name/mail/%n
mail_max_userip_connections = 200
mail_plugins = zlib
protocol imap {
  mail_plugins = \$mail_plugins imap_zlib
}

passdb {
  driver = passwd-file
  args = $DIR/passwd
  mechanisms = plain login scram-sha-1 scram-sha-256 cram-md5
}
passdb {
  driver = oauth2
  args = $DIR/oauth2.conf.ext
  mechanisms = xoauth2 oauthbearer
}
userdb {
  driver = static
  args = uid=imapwire gid=imapwire home=$DIR/$name/mail/%n
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $plain_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tls_port
    ssl = yes
  }
  process_min_avail = 1
}
service imap {
  process_limit = 256
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
    start_instance "$name"
  done

  {
    echo "DOVECOT_HOST=127.0.0.1"
    echo "DOVECOT_IMAP_PORT=10143"
    echo "DOVECOT_IMAPS_PORT=10993"
    echo "DOVECOT_CA=$t/ca.pem"
    echo "DOVECOT_SELFSIGNED_STARTTLS_PORT=11143"
    echo "DOVECOT_SELFSIGNED_PORT=11993"
    echo "DOVECOT_SELFSIGNED_FINGERPRINT=$fingerprint"
    echo "DOVECOT_RESTART_PORT=12993"
    echo "DOVECOT_DOOMED_PORT=13993"
    echo "DOVECOT_CTL=$SELF"
    echo "DOVECOT_DIR=$DIR"
    echo "DOVECOT_USERS=${USERS// /,}"
    echo "DOVECOT_PASSWORD=$PASSWORD"
    echo "DOVECOT_MECHANISMS=${MECHS// /,}"
    echo "DOVECOT_JWT_KEY=$key_b64"
    for u in $USERS; do
      echo "DOVECOT_TOKEN_$(tr '[:lower:]' '[:upper:]' <<<"$u")=$(jwt "$u" 172800 0)"
    done
    echo "DOVECOT_TOKEN_EXPIRED_ALICE=$(jwt alice -3600 -7200)"
  } >"$DIR/env"
  echo "dovecot $(dovecot --version) on 127.0.0.1; export IMAPWIRE_DOVECOT=$DIR/env" >&2
}

case "$CMD" in
  start) setup ;;
  stop) for inst in $INSTANCES; do stop_instance "${inst%%:*}"; done ;;
  start-instance) start_instance "$NAME" ;;
  stop-instance) stop_instance "$NAME" ;;
  *) echo "usage: $0 start|stop [DIR] | start-instance|stop-instance NAME [DIR]" >&2; exit 2 ;;
esac
