#!/bin/sh
# Installs Debian's Dovecot IMAP server for the email tests when it is not there yet.
set -eu
if command -v dovecot >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd
# The package starts a system-wide service where it can; the tests run their own instance.
command -v dovecot
