#!/usr/bin/env bash
# mail-servers.sh — throwaway, loopback-only Postfix (SMTP) + Dovecot (IMAP, LMTP, SASL) for
# medrec's tests. Test rig only: never point it at real mail.
#
# Usage (as root; runs without systemd; /etc/postfix and /etc/dovecot stay unused):
#   bash scripts/mail-servers.sh up            # install packages if missing, configure, start, wait for ports
#   . "${MAIL_ROOT:-/tmp/medrec-mail}/env"     # exports for the tests (also: MEDREC_TEST_MAIL_ENV=$MAIL_ROOT/env)
#   bash scripts/mail-servers.sh selftest      # prove the rig works (SMTP x3, IDLE, Auth-Results, bounce, restart, vacation)
#   bash scripts/mail-servers.sh restart-imap  # stop + start Dovecot only; mail is kept (simulates an IMAP restart)
#   bash scripts/mail-servers.sh stop-imap     # first half of restart-imap ...
#   bash scripts/mail-servers.sh start-imap    # ... second half (waits for Dovecot's ports, flushes Postfix's queue)
#   bash scripts/mail-servers.sh env           # print the exports (the running instance's, if any)
#   bash scripts/mail-servers.sh down          # stop both and delete $MAIL_ROOT
#   bash scripts/mail-servers.sh vacation ADDRESS     # ADDRESS's mailbox answers every message it may (Sieve vacation)
#   bash scripts/mail-servers.sh sieve ADDRESS FILE   # make FILE (a Sieve script) ADDRESS's active script
# Every setting below can be overridden from the environment (e.g. MAIL_ROOT=/tmp/x SMTP_PORT=20025 ... up).
#
# Topology (everything on 127.0.0.1):
#   client --SMTP--> Postfix :10025 plain, no AUTH, relays anything from 127.0.0.0/8 (STARTTLS optional)
#                            :10587 submission: STARTTLS required + SASL AUTH
#                            :10465 implicit TLS + SASL AUTH
#          Postfix --LMTP--> Dovecot :10024 --> maildir $MAIL_ROOT/mail/<domain>/<local part>/Maildir
#   client --IMAP--> Dovecot :10143 (plain + STARTTLS), :10993 (implicit TLS)
#   Postfix --SASL--> Dovecot auth :10027
#
# Users: EVERY address exists, with the one password "test" (tests isolate themselves with unique
# addresses like bot-7f3a@denhamlaw.example), EXCEPT the local part "nosuchuser" (any domain): Dovecot
# refuses it at LMTP RCPT, so Postfix sends a real multipart/report DSN bounce to the sender.
#
# Authentication-Results (authserv-id "mail.test") is prepended by Postfix to every message it accepts:
#   :10587 / :10465 (after SASL AUTH)   Authentication-Results: mail.test; auth=pass smtp.auth=<login>
#   :10025 (unauthenticated)            Authentication-Results: mail.test; auth=none
# It is always the topmost Authentication-Results; a client-supplied one with the same authserv-id is
# NOT stripped (see write_postfix_conf for why) and simply stays below ours.
#
# Sieve (Pigeonhole, package dovecot-sieve) runs at every LMTP delivery. A mailbox without a script
# just keeps its mail, as before. A mailbox's script lives in its home directory,
#   $MAIL_ROOT/mail/<domain>/<local part>/sieve/<name>.sieve   (lower-cased address, owned by vmail)
#   $MAIL_ROOT/mail/<domain>/<local part>/.dovecot.sieve        symlink to the active one
# which `sieve`/`vacation` write, compile (so a syntax error fails there, not silently at delivery)
# and chown. `vacation` installs `vacation :seconds 0` with sieve_vacation_min_period = 0, so EVERY
# message that Pigeonhole deems answerable is answered (no once-per-sender memory), and
# sieve_vacation_dont_check_recipient = yes, so it answers whatever the To/Cc say. Pigeonhole still
# never answers, by design (RFC 5230 §4.6, RFC 3834): mail with Auto-Submitted other than "no",
# Precedence bulk/list/junk, List-* headers, a null or mailer-daemon/owner-/-request-like envelope
# sender, or from the mailbox's own address. Replies go to the ENVELOPE sender (Return-Path), from
# the null sender <>, with "Auto-Submitted: auto-replied", submitted to Postfix's plain port.
#
# While Dovecot is stopped (stop-imap), LMTP and SASL are down too: submit via the plain port :10025,
# Postfix queues the mail and delivers it when Dovecot is back (start-imap also flushes the queue).
set -euo pipefail
# postfix, dovecot, postqueue and useradd live in sbin, which a non-login shell may lack
PATH=$PATH:/usr/sbin:/sbin

MAIL_ROOT=${MAIL_ROOT:-/tmp/medrec-mail}
SMTP_PORT=${SMTP_PORT:-10025}
SUBMISSION_PORT=${SUBMISSION_PORT:-10587}
SMTPS_PORT=${SMTPS_PORT:-10465}
IMAP_PORT=${IMAP_PORT:-10143}
IMAPS_PORT=${IMAPS_PORT:-10993}
LMTP_PORT=${LMTP_PORT:-10024}
AUTH_PORT=${AUTH_PORT:-10027}
MAIL_PASSWORD=${MAIL_PASSWORD:-test}
MAIL_AUTHSERV_ID=${MAIL_AUTHSERV_ID:-mail.test}
VMAIL_USER=${VMAIL_USER:-vmail}

ETC=$MAIL_ROOT/etc
LOGDIR=$MAIL_ROOT/log
DOVECOT_CONF=$ETC/dovecot.conf
DOVECOT_PID=$MAIL_ROOT/run/dovecot/master.pid
PF_DIR=$MAIL_ROOT/postfix
PF_PID=$PF_DIR/queue/pid/master.pid
MARKER=$MAIL_ROOT/.medrec-mail-servers # "this directory is ours to delete"

log() { printf '[mail-servers] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (Postfix's master and Dovecot's privilege separation)"; }

# The settings end up unquoted inside Dovecot/Postfix config values, and MAIL_ROOT is rm -rf'ed
# by `down`: refuse anything unusual.
check_settings() {
  local p
  [[ $MAIL_ROOT =~ ^/[A-Za-z0-9._/-]+$ ]] || die "MAIL_ROOT must be an absolute path of [A-Za-z0-9._/-]: '$MAIL_ROOT'"
  [[ $MAIL_ROOT =~ ^/[^/]+/. ]] || die "MAIL_ROOT is too close to / to be deleted safely: '$MAIL_ROOT'"
  for p in "$SMTP_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$AUTH_PORT"; do
    [[ $p =~ ^[0-9]{1,5}$ ]] || die "bad port number '$p'"
  done
  [[ $MAIL_PASSWORD =~ ^[A-Za-z0-9._-]+$ ]] || die "MAIL_PASSWORD must be [A-Za-z0-9._-]+"
  [[ $MAIL_AUTHSERV_ID =~ ^[A-Za-z0-9.-]+$ ]] || die "MAIL_AUTHSERV_ID must be a domain name"
}

# The commands that act on a running instance use the settings it was started with (its env
# file), so only MAIL_ROOT has to match; port overrides need not be repeated.
load_instance_env() {
  # shellcheck disable=SC1091
  if [ -r "$MAIL_ROOT/env" ]; then . "$MAIL_ROOT/env"; fi
}

dump_logs() { tail -n 40 "$LOGDIR"/*.log "$LOGDIR"/*.stderr >&2 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ports_open() { # timeout_s port...
  local timeout=$1 p i
  shift
  for p in "$@"; do
    for ((i = 0; ; i++)); do
      port_open "$p" && break
      ((i < timeout * 10)) || { log "port $p did not open within ${timeout}s"; dump_logs; return 1; }
      sleep 0.1
    done
  done
}

wait_ports_closed() { # timeout_s port...
  local timeout=$1 p i
  shift
  for p in "$@"; do
    for ((i = 0; ; i++)); do
      port_open "$p" || break
      ((i < timeout * 10)) || { log "port $p still open after ${timeout}s"; return 1; }
      sleep 0.1
    done
  done
}

# prints the pid of a live master process recorded in pidfile $1; fails if there is none
live_pid() {
  local pid
  [ -r "$1" ] || return 1
  pid=$(tr -dc 0-9 <"$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

wait_pid_gone() { # pid timeout_s; SIGKILL if it outlives the timeout
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $1 did not exit in $2s: SIGKILL"
  kill -9 "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------------------------
install_pkgs() {
  if command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/lmtp ] && [ -x /usr/lib/dovecot/imap ] &&
    [ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] && command -v sievec >/dev/null &&
    command -v postfix >/dev/null && command -v openssl >/dev/null; then
    return 0
  fi
  local t0=$SECONDS
  log "installing dovecot-imapd dovecot-lmtpd dovecot-sieve postfix openssl (apt)"
  export DEBIAN_FRONTEND=noninteractive
  # Keep Debian's postinst from writing an 'Internet Site' /etc/postfix/main.cf that we never use.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-lmtpd dovecot-sieve postfix openssl </dev/null >/dev/null
  log "apt took $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------------
# TLS: a tiny CA + a leaf for localhost / 127.0.0.1. A single self-signed cert (CA:TRUE, what
# `openssl req -x509` makes) is refused by rustls/webpki as a server cert: CaUsedAsEndEntity.
# ---------------------------------------------------------------------------------------------
make_certs() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=medrec test mail CA" -keyout "$ETC/ca.key" -out "$ETC/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$ETC/key.pem" -out "$ETC/leaf.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$ETC/leaf.ext"
  openssl x509 -req -in "$ETC/leaf.csr" -CA "$ETC/ca.pem" -CAkey "$ETC/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$ETC/leaf.ext" -out "$ETC/cert.pem" 2>/dev/null
  # certs are read by unprivileged login processes; the keys stay root-only (masters read them)
  chmod 644 "$ETC/ca.pem" "$ETC/cert.pem"
  chmod 600 "$ETC/ca.key" "$ETC/key.pem"
}

# ---------------------------------------------------------------------------------------------
# Dovecot 2.3 (gotcha: nothing may follow '{' on the same line)
# ---------------------------------------------------------------------------------------------
write_dovecot_conf() {
  # The only user that does not exist, matched on the lower-cased local part (so any domain).
  # The uid field (never used) must be non-zero: passwd-file's userdb treats an entry without a uid as
  # "unknown user", which would fall through to the static userdb and make it exist after all.
  # nodelay=yes: a login attempt as nosuchuser fails at once instead of after ~0.5 s.
  # (A wrong password for anybody else still takes ~0.5 s: Dovecot's failure queue granularity.)
  echo "nosuchuser::65534:65534::/nonexistent::nodelay=yes" >"$ETC/nosuchusers"
  chmod 644 "$ETC/nosuchusers"
  cat >"$DOVECOT_CONF" <<EOF
# generated by scripts/mail-servers.sh — test rig only
instance_name = medrec-mail
base_dir = $MAIL_ROOT/run/dovecot
state_dir = $MAIL_ROOT/state
hostname = imap.$MAIL_AUTHSERV_ID
listen = 127.0.0.1
protocols = imap lmtp
log_path = $LOGDIR/dovecot.log
# privilege-separation users, created by the Debian dovecot-core package
default_internal_user = dovecot
default_login_user = dovenull
ssl = yes
ssl_cert = <$ETC/cert.pem
ssl_key = <$ETC/key.pem
# loopback test server: LOGIN / AUTH PLAIN are allowed without TLS on $IMAP_PORT
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
# Failed logins are normally answered after 2 s, and every failure also raises a per-IP "auth
# penalty" (2, 4, 8, 15 s before the NEXT login from that IP is even looked at). All tests share
# 127.0.0.1, so one wrong-password test would stall everybody's logins: switch both off.
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
auth_verbose = yes

# --- who exists ----------------------------------------------------------------------------
# passdb (IMAP login, SMTP AUTH): "nosuchuser" is denied, everybody else logs in with one password.
passdb {
  driver = passwd-file
  deny = yes
  args = username_format=%Ln $ETC/nosuchusers
}
passdb {
  driver = static
  args = password=$MAIL_PASSWORD
}
# userdb (LMTP RCPT, and after IMAP login): a hit in the nosuchusers file ends the lookup as
# "user unknown" (LMTP answers 550 5.1.1, Postfix bounces); a miss falls through to the static
# userdb, whose allow_all_users=yes makes every other address exist without a passdb check.
userdb {
  driver = passwd-file
  args = username_format=%Ln $ETC/nosuchusers
  result_success = return-fail
  result_failure = continue
}
userdb {
  driver = static
  args = uid=$VMAIL_USER gid=$VMAIL_USER home=$MAIL_ROOT/mail/%Ld/%Ln allow_all_users=yes
}

mail_location = maildir:~/Maildir
mail_fsync = never
# useradd --system hands out uids below 1000 (often 999); Dovecot's default floor is 500
first_valid_uid = 100
# IDLE: inotify wakes IDLE at once; this is the polling fallback
mailbox_idle_check_interval = 1 secs
namespace inbox {
  inbox = yes
  separator = /
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
}
protocol imap {
  # default is 10 per user+IP: parallel tests from 127.0.0.1 hit it quickly
  mail_max_userip_connections = 200
}
protocol lmtp {
  postmaster_address = postmaster@$MAIL_AUTHSERV_ID
  # Pigeonhole Sieve at delivery; see the header of scripts/mail-servers.sh for the layout
  mail_plugins = \$mail_plugins sieve
}
# Mail that Sieve sends (vacation replies) goes through Postfix's plain port, like anybody's.
submission_host = 127.0.0.1:$SMTP_PORT
plugin {
  # per mailbox: scripts in ~/sieve, the active one linked from ~/.dovecot.sieve (none: plain keep)
  sieve = file:~/sieve;active=~/.dovecot.sieve
  # ":seconds 0" (RFC 6131) and a zero minimum: answer every answerable message, not once a day
  sieve_extensions = +vacation-seconds
  sieve_vacation_min_period = 0
  # answer whatever the To/Cc say (mail from the bot is often addressed to someone else)
  sieve_vacation_dont_check_recipient = yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service auth {
  inet_listener auth-smtp {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
EOF
}

# The script `vacation ADDRESS` installs: an out-of-office that answers every answerable message.
write_sieve_templates() {
  cat >"$ETC/vacation.sieve" <<'EOF'
# generated by scripts/mail-servers.sh — test rig only
require ["vacation-seconds"];
# no :subject: Pigeonhole's default is "Auto: <original subject>"
vacation :seconds 0
  "I am out of the office and will read your message when I return. This is an automatic reply.";
EOF
  chmod 644 "$ETC/vacation.sieve"
}

dovecot_start() {
  if live_pid "$DOVECOT_PID" >/dev/null; then
    log "dovecot already running"
  else
    [ -e "$DOVECOT_CONF" ] || die "no Dovecot config in $MAIL_ROOT: run 'up' first"
    # Dovecot's master keeps the stderr it was started with open for its whole life: never hand
    # it the caller's pipe (a CI 'script | tee' would wait forever for EOF).
    dovecot -c "$DOVECOT_CONF" </dev/null >/dev/null 2>>"$LOGDIR/dovecot.stderr" ||
      { log "dovecot failed to start"; dump_logs; exit 1; }
  fi
  wait_ports_open 15 "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$AUTH_PORT"
}

dovecot_stop() {
  local pid
  if pid=$(live_pid "$DOVECOT_PID"); then
    dovecot -c "$DOVECOT_CONF" stop </dev/null >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10
  fi
  # a zombie 'stats' child may linger where PID 1 does not reap (harmless); the ports are what matter
  wait_ports_closed 10 "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$AUTH_PORT" || true
}

# ---------------------------------------------------------------------------------------------
# Postfix
# ---------------------------------------------------------------------------------------------
write_postfix_conf() {
  # Authentication-Results stamping: access-table PREPEND actions in smtpd_data_restrictions,
  # which run once per message at DATA, or at the first BDAT (both tested; recipient
  # restrictions run once per RCPT, risking one stamp per recipient). smtpd puts
  # PREPENDed headers above its own Received:, so ours is always the topmost
  # Authentication-Results (Dovecot's LMTP adds only Return-Path/Delivered-To/Received above it).
  # $1 is the SASL login name; only "safe" names are copied into the header (no header injection).
  cat >"$PF_DIR/etc/ar_sasl.regexp" <<EOF
/^([-+_=.@[:alnum:]]+)\$/ PREPEND Authentication-Results: $MAIL_AUTHSERV_ID; auth=pass smtp.auth=\$1
/./ PREPEND Authentication-Results: $MAIL_AUTHSERV_ID; auth=pass
EOF
  cat >"$PF_DIR/etc/ar_none.regexp" <<EOF
/./ PREPEND Authentication-Results: $MAIL_AUTHSERV_ID; auth=none
EOF
  # Not done: stripping client-supplied "Authentication-Results: $MAIL_AUTHSERV_ID" headers.
  # header_checks (cleanup) see smtpd's PREPENDed header like any other, so an IGNORE rule strips
  # our own stamp too (tested). Ours stays topmost, which is what a reader must trust anyway.

  cat >"$PF_DIR/etc/main.cf" <<EOF
# generated by scripts/mail-servers.sh — test rig only
compatibility_level = 3.6
config_directory = $PF_DIR/etc
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
# no syslogd here: log to a file (needs the postlog service in master.cf and an allowed prefix)
maillog_file = $LOGDIR/postfix.log
maillog_file_prefixes = $LOGDIR
myhostname = smtp.$MAIL_AUTHSERV_ID
mydomain = $MAIL_AUTHSERV_ID
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtp_dns_support_level = disabled
# every domain is delivered to Dovecot over LMTP; Dovecot decides which users exist
# (unknown user -> 550 at LMTP RCPT -> DSN bounce to the sender)
virtual_mailbox_domains = static:all
virtual_mailbox_maps =
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
smtpd_banner = \$myhostname ESMTP test
smtpd_tls_cert_file = $ETC/cert.pem
smtpd_tls_key_file = $ETC/key.pem
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
# SASL only on the submission listeners (master.cf): smtpd with SASL enabled needs Dovecot's auth
# service, and the plain port must keep accepting mail while Dovecot is stopped (stop-imap).
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
# the plain port's stamp (the submission listeners override this in master.cf)
smtpd_data_restrictions = check_client_access regexp:$PF_DIR/etc/ar_none.regexp
# no 1 s penalty after each rejected command (wrong-password / bad-recipient tests)
smtpd_error_sleep_time = 0
message_size_limit = 52428800
# While Dovecot is stopped, an smtpd on the SASL ports dies at EHLO ("fatal: no SASL
# authentication mechanisms") and master then throttles that listener for service_throttle_time
# (default 60 s): submissions right after start-imap hung for ~56 s (seen). Throttle briefly.
service_throttle_time = 1s
# retry quickly so a temporarily stopped Dovecot does not stall tests
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
EOF

  # Everything unchrooted ('n'), so absolute paths (certs, log, tables) work.
  # max_use=1 on the SASL listeners: an idle smtpd process keeps its connection to Dovecot's auth
  # service between sessions. Across restart-imap, the OLD auth process lingers (orphaned) while
  # that connection is open, goes away ~25 s later, and the next AUTH in that smtpd process then
  # fails with "454 4.7.0 Temporary authentication failure: Connection lost to authentication
  # server" (seen; smtplib hides it by retrying with LOGIN, single-mechanism clients do not).
  # One session per process means every session opens a fresh auth connection.
  cat >"$PF_DIR/etc/master.cf" <<EOF
# generated by scripts/mail-servers.sh — test rig only
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o max_use=1
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
  -o smtpd_data_restrictions=check_sasl_access,regexp:$PF_DIR/etc/ar_sasl.regexp
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o max_use=1
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
  -o smtpd_data_restrictions=check_sasl_access,regexp:$PF_DIR/etc/ar_sasl.regexp
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

postfix_start() {
  # postfix prints fatal errors only to a tty or its log: show the log on failure
  postfix -c "$PF_DIR/etc" start </dev/null >/dev/null 2>&1 ||
    { log "postfix failed to start"; dump_logs; exit 1; }
  wait_ports_open 15 "$SMTP_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT"
}

postfix_stop() {
  local pid
  if pid=$(live_pid "$PF_PID"); then
    postfix -c "$PF_DIR/etc" stop </dev/null >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10
  fi
}

# ask Postfix to retry deferred mail now (after Dovecot came back); harmless if Postfix is down
postfix_flush() {
  if live_pid "$PF_PID" >/dev/null; then postqueue -c "$PF_DIR/etc" -f </dev/null >/dev/null 2>&1 || true; fi
}

# ---------------------------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------------------------
make_env() {
  cat <<EOF
export MAIL_ROOT=$MAIL_ROOT
export MAIL_CA=$ETC/ca.pem
export MAIL_HOST=127.0.0.1
export MAIL_TLS_NAME=localhost
export MAIL_PASSWORD=$MAIL_PASSWORD
export MAIL_AUTHSERV_ID=$MAIL_AUTHSERV_ID
export SMTP_PORT=$SMTP_PORT
export SUBMISSION_PORT=$SUBMISSION_PORT
export SMTPS_PORT=$SMTPS_PORT
export IMAP_PORT=$IMAP_PORT
export IMAPS_PORT=$IMAPS_PORT
export LMTP_PORT=$LMTP_PORT
export AUTH_PORT=$AUTH_PORT
EOF
}

# a running instance's own env file if there is one, else what `up` would write
do_env() {
  if [ -r "$MAIL_ROOT/env" ]; then cat "$MAIL_ROOT/env"; else make_env; fi
}

do_up() {
  need_root
  check_settings
  install_pkgs
  local t0=$SECONDS p
  # Idempotent by teardown: a previous instance in MAIL_ROOT (running or not) is stopped and its
  # directory deleted, so every `up` starts with fresh certs, configs and an empty mail store.
  if [ -e "$MAIL_ROOT" ]; then
    log "previous instance in $MAIL_ROOT: tearing it down first"
    ( do_down ) # subshell: do_down loads the old instance's env, which must not leak into ours
  fi
  for p in "$SMTP_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$AUTH_PORT"; do
    ! port_open "$p" || die "127.0.0.1:$p is already in use (another instance with a different MAIL_ROOT?)"
  done
  id -u "$VMAIL_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$VMAIL_USER"

  mkdir -p "$MAIL_ROOT"
  touch "$MARKER"
  mkdir -p "$ETC" "$LOGDIR" "$MAIL_ROOT"/{run,state,mail} "$PF_DIR"/{etc,queue,data}
  # Dovecot's auth/login processes run as dovecot/dovenull and must traverse these
  chmod 755 "$MAIL_ROOT" "$ETC" "$LOGDIR" "$PF_DIR"
  chown "$VMAIL_USER:$VMAIL_USER" "$MAIL_ROOT/mail"
  chown postfix "$PF_DIR/data" # master.lock lives here and must be postfix-owned

  make_certs
  write_dovecot_conf
  write_sieve_templates
  write_postfix_conf
  dovecot_start
  postfix_start

  make_env >"$MAIL_ROOT/env"
  chmod 644 "$MAIL_ROOT/env"
  log "up in $((SECONDS - t0))s: env in $MAIL_ROOT/env, logs in $LOGDIR/"
}

do_down() {
  need_root
  check_settings
  [ ! -e "$MAIL_ROOT" ] || [ -e "$MARKER" ] || [ -z "$(ls -A "$MAIL_ROOT")" ] ||
    die "$MAIL_ROOT exists but was not made by this script: refusing to delete it"
  load_instance_env
  # both at once (Dovecot's master alone takes ~2.5 s to exit); everything is deleted anyway
  if [ -e "$PF_DIR/etc/main.cf" ]; then postfix_stop & fi
  if [ -e "$DOVECOT_CONF" ]; then dovecot_stop; fi
  wait
  rm -rf "$MAIL_ROOT"
  log "down"
}

do_stop_imap() {
  need_root
  check_settings
  load_instance_env
  [ -e "$DOVECOT_CONF" ] || die "no instance in $MAIL_ROOT"
  dovecot_stop
  log "dovecot stopped (IMAP, LMTP, SASL down; Postfix queues incoming mail)"
}

do_start_imap() {
  need_root
  check_settings
  load_instance_env
  dovecot_start
  postfix_flush
  log "dovecot started (ports $IMAP_PORT $IMAPS_PORT $LMTP_PORT $AUTH_PORT open)"
}

do_restart_imap() {
  local t0=$SECONDS
  do_stop_imap
  do_start_imap
  log "dovecot restarted in $((SECONDS - t0))s, mail kept"
}

# ---------------------------------------------------------------------------------------------
# Sieve per mailbox (layout in the header)
# ---------------------------------------------------------------------------------------------
# the home directory Dovecot's userdb gives an address: $MAIL_ROOT/mail/<domain>/<local part>
mailbox_home() {
  local a=${1,,}
  # Only plain addresses: the parts become path components, and a +detail would name another home.
  [[ $a =~ ^([a-z0-9][a-z0-9._-]*)@([a-z0-9][a-z0-9.-]*)$ ]] ||
    die "not an address this script takes: '$1' (letters, digits, '.', '_', '-'; no +detail)"
  [ "${BASH_REMATCH[1]}" != nosuchuser ] || die "nosuchuser has no mailbox"
  echo "$MAIL_ROOT/mail/${BASH_REMATCH[2]}/${BASH_REMATCH[1]}"
}

install_sieve() { # address file name
  local home dir
  home=$(mailbox_home "$1")
  [ -r "$2" ] || die "no Sieve script at '$2'"
  [[ $3 =~ ^[a-z0-9-]+$ ]] || die "bad script name '$3'"
  # Dovecot makes a home at its first delivery; one that has had no mail yet is made here, as vmail's.
  for dir in "${home%/*}" "$home" "$home/sieve"; do
    [ -d "$dir" ] || install -d -m 0700 -o "$VMAIL_USER" -g "$VMAIL_USER" "$dir"
  done
  # Compiled first, as the delivering user, to check it: a broken script fails here (at delivery
  # Dovecot would only log the error and keep the mail, so a test would wait for nothing), and
  # leaves the mailbox's current script as it was.
  install -m 0600 -o "$VMAIL_USER" -g "$VMAIL_USER" "$2" "$home/sieve/$3.new.sieve"
  if ! runuser -u "$VMAIL_USER" -- sievec -c "$DOVECOT_CONF" "$home/sieve/$3.new.sieve"; then
    rm -f "$home/sieve/$3.new.sieve"
    die "sievec refused $2 (see above)"
  fi
  rm -f "$home/sieve/$3.new.svbin"
  mv -f "$home/sieve/$3.new.sieve" "$home/sieve/$3.sieve"
  ln -sfn "sieve/$3.sieve" "$home/.dovecot.sieve"
  chown -h "$VMAIL_USER:$VMAIL_USER" "$home/.dovecot.sieve"
  log "$1: active Sieve script $home/sieve/$3.sieve"
}

do_sieve() { # address file
  need_root
  check_settings
  load_instance_env
  [ "$#" -eq 2 ] || die "usage: $0 sieve ADDRESS FILE"
  [ -e "$DOVECOT_CONF" ] || die "no instance in $MAIL_ROOT: run 'up' first"
  install_sieve "$1" "$2" custom
}

do_vacation() { # address
  need_root
  check_settings
  load_instance_env
  [ "$#" -eq 1 ] || die "usage: $0 vacation ADDRESS"
  [ -e "$ETC/vacation.sieve" ] || die "no instance in $MAIL_ROOT (or one from before 'vacation' existed): run 'up'"
  install_sieve "$1" "$ETC/vacation.sieve" vacation
}

# selftest: python3 checks in phases, with the script's own stop/start-imap in between
selftest_py() { # phase
  python3 - "$1" <<'PY'
import email, email.policy, imaplib, os, smtplib, ssl, sys, time
from email.message import EmailMessage

E = os.environ
H, PW, AID, TAG = E["MAIL_HOST"], E["MAIL_PASSWORD"], E["MAIL_AUTHSERV_ID"], E["SELFTEST_TAG"]
ctx = ssl.create_default_context(cafile=E["MAIL_CA"])
SENDER = f"selftest-s-{TAG}@denhamlaw.example"
RCPT = f"selftest-r-{TAG}@provider.example"
RCPT2 = f"Selftest-R2-{TAG}@Provider.example"  # mixed case on purpose: addresses are case-insensitive
phase = sys.argv[1]
EHLO = "selftest.example"  # smtplib's default, socket.getfqdn(), can take 0.5 s in containers


def fail(why):
    raise SystemExit(f"selftest FAILED ({phase}): {why}")


def msg(kind, to, extra=()):
    m = EmailMessage()
    for k, v in extra:
        m[k] = v
    m["From"], m["To"], m["Subject"] = SENDER, ", ".join(to), f"{kind} {TAG}"
    m["Message-ID"] = f"<{kind}.{TAG}@selftest.example>"
    m.set_content("hello\n")
    return m


def imap(user):
    im = imaplib.IMAP4(H, int(E["IMAP_PORT"]))
    im.starttls(ssl_context=ctx)
    im.login(user, PW)
    im.select("INBOX")
    return im


def wait_for(im, want, timeout=20.0):
    """Wait until INBOX holds messages with all subjects in `want`; return {subject: headers}."""
    end = time.time() + timeout
    while True:
        got = {}
        _, d = im.uid("SEARCH", None, "SUBJECT", f'"{TAG}"')
        for uid in d[0].split():
            _, f = im.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
            h = email.message_from_bytes(f[0][1], policy=email.policy.default)
            got[str(h["Subject"])] = h
        if set(want) <= set(got):
            return got
        if time.time() > end:
            fail(f"missing {set(want) - set(got)} (have {sorted(got)})")
        im.noop()
        time.sleep(0.1)


def ar(h):
    return [str(v) for v in h.get_all("Authentication-Results") or []]


def expect_fail(what, fn):
    t0 = time.time()
    try:
        fn()
    except (imaplib.IMAP4.error, smtplib.SMTPException) as e:
        took = time.time() - t0
        # no auth-failure delay / per-IP penalty (they would stall parallel tests)
        if took > 1.5:
            fail(f"{what} took {took:.1f}s to be refused")
        print(f"  ok: {what} refused in {took:.2f}s: {str(e)[:80]}")
        return
    fail(f"{what} was accepted")


def deliver():
    t0 = time.time()
    # 1. IDLE on RCPT's INBOX; a plain-port message (with a forged A-R header) must push at once
    im = imap(RCPT)
    t = im._new_tag()
    im.send(t + b" IDLE\r\n")
    if not im.readline().startswith(b"+"):
        fail("IDLE not accepted")
    forged = [("Authentication-Results", f"{AID}; auth=pass smtp.auth=forged@evil.example")]
    with smtplib.SMTP(H, int(E["SMTP_PORT"]), local_hostname=EHLO) as s:
        s.send_message(msg("plain", [RCPT, RCPT2], forged))
    im.sock.settimeout(15)
    push = im.readline().strip().decode()
    im.send(b"DONE\r\n")
    while not im.readline().startswith(t):
        pass
    im.sock.settimeout(None)
    print(f"  ok: IDLE push {push!r} {time.time() - t0:.2f}s after submitting on :{E['SMTP_PORT']}")
    # 2. the two authenticated ports
    with smtplib.SMTP(H, int(E["SUBMISSION_PORT"]), local_hostname=EHLO) as s:
        s.starttls(context=ctx)
        s.login(SENDER, PW)
        s.send_message(msg("submission", [RCPT]))
    with smtplib.SMTP_SSL(H, int(E["SMTPS_PORT"]), context=ctx, local_hostname=EHLO) as s:
        s.login(SENDER, PW)
        s.send_message(msg("smtps", [RCPT]))
    got = wait_for(im, [f"{k} {TAG}" for k in ("plain", "submission", "smtps")])
    print(f"  ok: plain/submission/smtps all delivered and read back {time.time() - t0:.2f}s after start")
    # 3. Authentication-Results: ours is topmost, exactly one, with the right method
    exp = {"plain": f"{AID}; auth=none",
           "submission": f"{AID}; auth=pass smtp.auth={SENDER}",
           "smtps": f"{AID}; auth=pass smtp.auth={SENDER}"}
    for kind, want in exp.items():
        hs = ar(got[f"{kind} {TAG}"])
        if not hs or hs[0] != want:
            fail(f"{kind}: topmost Authentication-Results {hs[:1]} != {want!r}")
        if sum(v == want for v in hs) != 1:
            fail(f"{kind}: stamped {sum(v == want for v in hs)} times: {hs}")
        print(f"  ok: {kind:10} Authentication-Results: {hs[0]}" + (f"   (below it, untouched: {hs[1:]})" if hs[1:] else ""))
    im2 = imap(RCPT2.lower())
    hs = ar(wait_for(im2, [f"plain {TAG}"])[f"plain {TAG}"])
    if hs[0] != exp["plain"] or hs.count(exp["plain"]) != 1:
        fail(f"second recipient of the two-recipient message: {hs}")
    im2.logout()
    print("  ok: two-recipient message stamped once per copy")
    # 4. nosuchuser: refused at LMTP RCPT -> Postfix bounces to the sender
    with smtplib.SMTP(H, int(E["SMTP_PORT"]), local_hostname=EHLO) as s:
        s.send_message(msg("tonosuchuser", ["nosuchuser@provider.example"]))
    ims = imap(SENDER)
    end = time.time() + 20
    while True:
        _, d = ims.uid("SEARCH", None, "HEADER", "Content-Type", "multipart/report")
        bounce = None
        for uid in d[0].split():
            _, f = ims.uid("FETCH", uid, "(BODY.PEEK[])")
            m = email.message_from_bytes(f[0][1], policy=email.policy.default)
            if f"tonosuchuser.{TAG}" in f[0][1].decode(errors="replace"):
                bounce = m
        if bounce or time.time() > end:
            break
        ims.noop()
        time.sleep(0.1)
    if bounce is None:
        fail("no bounce for nosuchuser@provider.example in the sender's INBOX")
    if bounce.get_content_type() != "multipart/report" or bounce.get_param("report-type") != "delivery-status":
        fail(f"bounce is {bounce['Content-Type']}")
    dsn = next(p for p in bounce.walk() if p.get_content_type() == "message/delivery-status")
    dsn_text = dsn.as_string()
    if "nosuchuser@provider.example" not in dsn_text or "Status: 5." not in dsn_text:
        fail(f"unexpected delivery-status part: {dsn_text[:300]}")
    status = [l for l in dsn_text.splitlines() if l.startswith(("Status:", "Diagnostic-Code:"))]
    print(f"  ok: bounce from {bounce['From']!s}: {bounce['Subject']!s}; {'; '.join(status)}")
    ims.logout()
    # 5. what must NOT work
    expect_fail("IMAP login as nosuchuser", lambda: imap("nosuchuser@provider.example"))
    expect_fail("IMAP login with a wrong password",
                lambda: imaplib.IMAP4_SSL(H, int(E["IMAPS_PORT"]), ssl_context=ctx).login(RCPT, "wrong"))

    def unauth_rcpt():
        with smtplib.SMTP(H, int(E["SUBMISSION_PORT"]), local_hostname=EHLO) as s:
            s.starttls(context=ctx)
            s.send_message(msg("unauth", [RCPT]))
    expect_fail("unauthenticated submission on :" + E["SUBMISSION_PORT"], unauth_rcpt)

    def bad_auth():
        with smtplib.SMTP_SSL(H, int(E["SMTPS_PORT"]), context=ctx, local_hostname=EHLO) as s:
            s.login(SENDER, "wrong")
    expect_fail("SMTP AUTH with a wrong password", bad_auth)
    im.logout()


def vacation():
    # the bash side has run `vacation VAC` first
    t0 = time.time()
    vac = f"selftest-v-{TAG}@provider.example"
    vim, ims = imap(vac), imap(SENDER)

    def replies_to(kind):
        _, d = ims.uid("SEARCH", None, "HEADER", "In-Reply-To", f"<{kind}.{TAG}@selftest.example>")
        return d[0].split()

    # 1. automatic mail (as every message from the bot is) is kept and never answered ...
    with smtplib.SMTP(H, int(E["SMTP_PORT"]), local_hostname=EHLO) as s:
        s.send_message(msg("vacauto", [vac], [("Auto-Submitted", "auto-generated")]))
    wait_for(vim, [f"vacauto {TAG}"])
    # ... its Sieve run is over once it is in the INBOX: any reply to it is in Postfix's queue now,
    # ahead of the reply to the next message, which is the marker that bounds the wait.
    with smtplib.SMTP(H, int(E["SMTP_PORT"]), local_hostname=EHLO) as s:
        s.send_message(msg("vacplain", [vac]))
    end = time.time() + 20
    while not replies_to("vacplain"):
        if time.time() > end:
            fail(f"no vacation reply from {vac} in {SENDER}'s INBOX")
        ims.noop()
        time.sleep(0.1)
    _, f = ims.uid("FETCH", replies_to("vacplain")[0], "(BODY.PEEK[HEADER])")
    h = email.message_from_bytes(f[0][1], policy=email.policy.default)
    # Pigeonhole writes "auto-replied (vacation)": a comment after the token (RFC 3834 §5)
    if not str(h["Auto-Submitted"]).lower().startswith("auto-replied") or str(h["From"]).lower() != vac.lower():
        fail(f"vacation reply: Auto-Submitted {h['Auto-Submitted']!s}, From {h['From']!s}")
    if str(h["Return-Path"]) != "<>":
        fail(f"vacation reply's envelope sender is {h['Return-Path']!s}, not <>")
    print(f"  ok: plain message answered in {time.time() - t0:.2f}s: {h['Subject']!s} "
          f"(Auto-Submitted: {h['Auto-Submitted']!s}, Return-Path: <>)")
    if replies_to("vacauto"):
        fail("the Auto-Submitted message was answered")
    print("  ok: the Auto-Submitted message (sent before it) was not answered")
    wait_for(vim, [f"vacauto {TAG}", f"vacplain {TAG}"])
    print("  ok: both kept in the vacation mailbox")
    vim.logout()
    ims.logout()


def send_while_down():
    with smtplib.SMTP(H, int(E["SMTP_PORT"]), local_hostname=EHLO) as s:
        s.send_message(msg("whiledown", [RCPT]))
    print(f"  ok: :{E['SMTP_PORT']} accepted mail while Dovecot was down")
    # the SASL ports cannot work without Dovecot; this also provokes Postfix's listener throttling
    try:
        with smtplib.SMTP_SSL(H, int(E["SMTPS_PORT"]), context=ctx, local_hostname=EHLO, timeout=10) as s:
            s.login(SENDER, PW)
    except (smtplib.SMTPException, OSError) as e:
        print(f"  ok: :{E['SMTPS_PORT']} unusable while Dovecot is down ({type(e).__name__})")
    else:
        fail("SMTP AUTH worked while Dovecot was down?")


def auth_soon_after_start():
    # must not hang behind Postfix's listener throttling (service_throttle_time)
    t0 = time.time()
    with smtplib.SMTP_SSL(H, int(E["SMTPS_PORT"]), context=ctx, local_hostname=EHLO, timeout=30) as s:
        s.login(SENDER, PW)
        s.send_message(msg("afterstart", [RCPT]))
    took = time.time() - t0
    if took > 5:
        fail(f"first submission after start-imap took {took:.1f}s")
    print(f"  ok: submission on :{E['SMTPS_PORT']} works {took:.2f}s after start-imap")


def plain_only_auth():
    # one AUTH PLAIN, no fallback to LOGIN (what single-mechanism clients do), on both ports,
    # right after Dovecot came back
    for port in ("SUBMISSION_PORT", "SMTPS_PORT"):
        if port == "SMTPS_PORT":
            s = smtplib.SMTP_SSL(H, int(E[port]), context=ctx, local_hostname=EHLO)
        else:
            s = smtplib.SMTP(H, int(E[port]), local_hostname=EHLO)
            s.starttls(context=ctx)
        s.ehlo()
        s.user, s.password = SENDER, PW
        code, resp = s.auth("PLAIN", s.auth_plain)
        s.quit()
        if code != 235:
            fail(f"AUTH PLAIN on :{E[port]} after the restart: {code} {resp}")
    print("  ok: first AUTH PLAIN on both submission ports after the restart succeeded")


def kept(extra):
    t0 = time.time()
    im = imap(RCPT)
    want = [f"{k} {TAG}" for k in ["plain", "submission", "smtps"] + extra]
    wait_for(im, want, timeout=30)
    im.logout()
    print(f"  ok: INBOX holds {', '.join(w.split()[0] for w in want)} ({time.time() - t0:.2f}s)")


{"deliver": deliver, "vacation": vacation, "while-down": send_while_down,
 "after-restart": lambda: (kept([]), plain_only_auth()), "after-start": lambda: (auth_soon_after_start(), kept(["whiledown", "afterstart"]))}[phase]()
PY
}

do_selftest() {
  need_root
  check_settings
  command -v python3 >/dev/null || die "selftest needs python3"
  [ -r "$MAIL_ROOT/env" ] || die "no $MAIL_ROOT/env: run 'up' first"
  # test exactly what the tests will see
  load_instance_env
  local t0=$SECONDS
  SELFTEST_TAG=$(date +%s%N)
  export SELFTEST_TAG
  log "selftest: deliveries, IDLE, Authentication-Results, nosuchuser bounce, refusals"
  selftest_py deliver
  log "selftest: Sieve vacation answers plain mail, not Auto-Submitted mail"
  do_vacation "selftest-v-$SELFTEST_TAG@provider.example"
  selftest_py vacation
  log "selftest: restart-imap keeps mail"
  do_restart_imap
  selftest_py after-restart
  log "selftest: stop-imap, deliver via :$SMTP_PORT, start-imap"
  do_stop_imap
  selftest_py while-down
  do_start_imap
  selftest_py after-start
  log "selftest OK in $((SECONDS - t0))s"
}

usage() {
  echo "usage: $0 up|down|restart-imap|stop-imap|start-imap|env|selftest|vacation ADDRESS|sieve ADDRESS FILE" >&2
  exit 2
}

case "${1:-}" in
  up) do_up ;;
  down) do_down ;;
  restart-imap) do_restart_imap ;;
  stop-imap) do_stop_imap ;;
  start-imap) do_start_imap ;;
  env) do_env ;;
  selftest) do_selftest ;;
  vacation) shift; do_vacation "$@" ;;
  sieve) shift; do_sieve "$@" ;;
  *) usage ;;
esac
