"""Delivering the outbox to Slack.

- ``sender``: ``OutboxSender`` claims rows, renders, paces and sends them, records the outcome, and handles
  Slack's errors by kind.
- ``pacer``: ``Pacer`` keeps within Slack's rate limits.
- ``renderer``: ``Renderer`` turns a row into what is sent, by its purpose's renderer.
- ``renderers``: one module per feature, each with one renderer per purpose it sends.
- ``rendered``: the shapes renderers hand the sender (``Rendered``, ``Upload``) and read with (``RenderContext``).
"""
