"""Adapters at the edge: one module per outside thing (SMTP, IMAP, Maildir, files, Excel, Word)."""
