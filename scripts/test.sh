#!/usr/bin/env bash
# scripts/test.sh — THE test command for medrec (the one the README names; CI runs it via .ci/run).
#
#   bash scripts/test.sh
#
# 1. cargo fmt --check and cargo clippy -D warnings (fail fast on either)
# 2. starts throwaway Postfix + Dovecot on 127.0.0.1 (scripts/mail-servers.sh up; needs root —
#    falls back to sudo if available), exports their settings (MEDREC_TEST_MAIL_ENV=$MAIL_ROOT/env),
#    and Prism mocks of the fax gateways' published OpenAPI documents (scripts/prism.sh up;
#    MEDREC_TEST_PRISM_ENV=$PRISM_ROOT/env)
# 3. cargo test --locked
# 4. always stops the mail servers again (EXIT trap), and exits with cargo test's status.
#
# CARGO_TARGET_DIR defaults to /var/tmp/medrec-target: outside the clone, reused between runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/medrec-target}
export MAIL_ROOT=${MAIL_ROOT:-/tmp/medrec-mail}

section() { printf '\n======== %s ========\n' "$*"; }

# mail-servers.sh needs root; keep the caller's MAIL_ROOT / port overrides when going through sudo
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo --preserve-env=MAIL_ROOT,SMTP_PORT,SUBMISSION_PORT,SMTPS_PORT,IMAP_PORT,IMAPS_PORT,LMTP_PORT,AUTH_PORT,MAIL_PASSWORD,MAIL_AUTHSERV_ID "$@"
  else
    echo "scripts/test.sh: the mail servers need root (or sudo)" >&2
    return 1
  fi
}

section "environment"
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
echo "MAIL_ROOT=$MAIL_ROOT"
cargo --version
rustc --version

section "packages the tests use"
# the mail servers (scripts/mail-servers.sh) and the PDF tools tests read packages with;
# Prism comes from npm in scripts/prism.sh
install_packages() {
  pkgs=(postfix dovecot-imapd dovecot-lmtpd dovecot-sieve openssl poppler-utils qpdf)

  missing=()
  for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
  done

  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # postfix: write no /etc/postfix/main.cf ('No configuration'); the tests run their own instance
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    t0=$SECONDS
    apt_log=$(mktemp)
    # dpkg's unpack chatter ignores -qq: keep it out of the CI log unless something fails
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } </dev/null >"$apt_log" 2>&1; then
      cat "$apt_log" >&2
      echo "apt-get failed" >&2
      exit 1
    fi
    rm -f "$apt_log"
    echo "installed in $((SECONDS - t0))s"
  else
    echo "all present: ${pkgs[*]}"
  fi
}
if [ "$(id -u)" -eq 0 ]; then
  install_packages
else
  echo "not root: assuming postfix, dovecot (imapd, lmtpd, sieve), poppler-utils and qpdf are installed"
fi

section "cargo fmt --all -- --check"
cargo fmt --all -- --check

section "cargo clippy --all-targets --locked -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

# shellcheck disable=SC2317  # (invoked by the EXIT trap)
mail_servers_down() {
  local rc=$?
  section "mail servers and fax mocks: down"
  as_root bash scripts/mail-servers.sh down || echo "(mail servers: down failed)" >&2
  bash scripts/prism.sh down || echo "(prism: down failed)" >&2
  exit "$rc"
}
# installed before `up`, so a half-started rig is cleaned up too
trap mail_servers_down EXIT

section "mail servers: up"
as_root bash scripts/mail-servers.sh up
# shellcheck disable=SC1091
. "$MAIL_ROOT/env"
export MEDREC_TEST_MAIL_ENV=$MAIL_ROOT/env
cat "$MEDREC_TEST_MAIL_ENV"

section "fax gateway mocks (Prism, from the vendors' OpenAPI documents): up"
export PRISM_ROOT=${PRISM_ROOT:-/tmp/medrec-prism}
bash scripts/prism.sh up
export MEDREC_TEST_PRISM_ENV=$PRISM_ROOT/env
cat "$MEDREC_TEST_PRISM_ENV"

section "cargo test --locked"
rc=0
cargo test --locked || rc=$?

if [ "$rc" -eq 0 ]; then
  section "cargo test: PASSED"
else
  section "cargo test: FAILED (exit $rc); mail server logs follow"
  tail -n 50 "$MAIL_ROOT"/log/*.log 2>/dev/null || true
fi
exit "$rc"
