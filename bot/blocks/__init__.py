"""Block Kit builders: pure functions from read models to ``slack_sdk.models`` objects. No I/O."""
