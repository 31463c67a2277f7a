"""Real servers the tests start themselves: a private Dovecot (IMAP) and aiosmtpd (SMTP)."""
