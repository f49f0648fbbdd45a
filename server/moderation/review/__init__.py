"""Moderators' review: queues, decisions, sanctions, the audit log, and their lock order."""
