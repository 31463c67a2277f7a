"""Email: IMAP polling, MIME parsing with its budget and loop checks, SMTP replies."""
