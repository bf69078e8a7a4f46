"""Domain use cases and pure policy. No Slack libraries here; time is always passed in."""
