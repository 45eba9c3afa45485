"""Notices: the outbox, its dispatcher and the channels (inbox, webhook, e-mail)."""
