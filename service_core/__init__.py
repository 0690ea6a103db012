"""Plumbing shared by the three servers: server factory, interceptors, errors,
metrics, settings base and the database engine. Written once, used by all."""
