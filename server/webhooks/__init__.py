"""Signed webhooks: endpoints admins register, a durable delivery queue in the database, and
the dispatcher that sends it (Standard Webhooks signatures, retries with backoff, replay)."""
