"""A reader's own data: settings (reply e-mails), export, erasure, and article archives."""
