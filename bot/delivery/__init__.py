"""Delivering the outbox to Slack.

- ``sender``: ``OutboxSender`` claims rows (keeping their lease while it sends), renders, paces and sends them,
  records the outcome, and handles Slack's errors by kind.
- ``pacer``: ``Pacer`` keeps within Slack's rate limits.
- ``token_recheck``: re-checks with ``auth.test`` the token of a workspace whose sending is held, and resumes it.
- ``renderer``: ``Renderer`` turns a row into what is sent, by its purpose's renderer.
- ``renderers``: one module per feature, each with one renderer per purpose it sends.
- ``rendered``: the shapes renderers hand the sender (``Rendered``, ``Upload``) and read with (``RenderContext``).
"""
