# Shell functions shared by the test-server scripts (.ci/dovecot.sh, .ci/cyrus.sh,
# .ci/courier.sh) and the scripts that run built examples (.ci/recordings.sh,
# benches/callgrind.sh), which source this file. Nothing here runs when it is sourced.

# cargo_target_dir: where cargo puts its output for the workspace of the current directory
# (CARGO_TARGET_DIR or build.target-dir may move it from ./target).
cargo_target_dir() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# Where downloaded .deb files are kept between runs (Cyrus and Courier are unpacked from them).
DEBS="${IMAPWIRE_DEB_CACHE:-/tmp/imapwire-debs}"

# apt_locked CMD...: CMD under the machine's apt lock, non-interactively.
apt_locked() { flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive "$@"; }

# apt_install PKG...: refreshes the package lists and installs PKGs (no recommends, quiet).
apt_install() {
  apt_locked apt-get update -qq
  apt_locked apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# have_libs SONAME...: whether the dynamic linker's cache knows every SONAME.
have_libs() {
  local libs s
  libs="$(ldconfig -p)"
  for s in "$@"; do grep -q "$s" <<<"$libs" || return 1; done
}

# fetch_debs PKG...: downloads the .deb of each PKG not yet in $DEBS (refreshing the package
# lists once if the first attempt fails).
fetch_debs() {
  local p missing=()
  mkdir -p "$DEBS"
  for p in "$@"; do ls "$DEBS/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  (cd "$DEBS" && { apt_locked apt-get download "${missing[@]}" >/dev/null 2>&1 \
    || { apt_locked apt-get update -qq && apt_locked apt-get download "${missing[@]}" >/dev/null; }; })
}

# deb_file PKG: the path of PKG's .deb in $DEBS.
deb_file() { ls "$DEBS/${1}_"*.deb | head -1; }

# unpack_debs ROOT PKG...: unpacks each PKG's .deb from $DEBS into ROOT (no maintainer scripts).
unpack_debs() {
  local root="$1" p
  shift
  for p in "$@"; do dpkg -x "$(deb_file "$p")" "$root"; done
}

# deb_version PKG: the version of PKG's .deb in $DEBS.
deb_version() { dpkg-deb -f "$(deb_file "$1")" Version; }

# ensure_user NAME: a system user NAME without home or shell, created if missing.
ensure_user() {
  id "$1" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$1"
}

# make_test_ca DIR CA_NAME: in DIR, a test CA (ca.pem, ca.key; common name CA_NAME) and a
# server certificate for 127.0.0.1/localhost that it signs (server.pem, server.key); P-256,
# 30 days. Both PEM certificates are world-readable.
make_test_ca() {
  local t="$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$2" -keyout "$t/ca.key" -out "$t/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
    -days 30 -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
  chmod 644 "$t/ca.pem" "$t/server.pem"
}

# wait_port PORT [TRIES]: waits until 127.0.0.1:PORT accepts a connection, trying every 0.1 s
# up to TRIES times (default 100); fails if it never does.
wait_port() {
  local _
  for _ in $(seq 1 "${2:-100}"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# stop_pid PID [TRIES]: SIGTERM to PID, then waits for it to exit, checking every 0.1 s up to
# TRIES times (default 100), and SIGKILLs it if it is still there.
stop_pid() {
  local pid="$1" _
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "${2:-100}"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
