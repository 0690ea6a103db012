"""LLM provider server (LPS): a durable queue of comparison requests run against providers."""
