"""Reply e-mails: notifications queued in the transaction that publishes a reply or features a
comment (for readers who opted in), sent over SMTP by a mailer that coalesces them into digests,
each with a signed one-click unsubscribe link (RFC 8058)."""
