"""Repositories: take a Session, add/get/list, never commit."""
