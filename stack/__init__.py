"""Running the three servers together: as processes (demo, e2e tests) or in one process."""
