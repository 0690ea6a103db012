"""Result aggregator server (RAS): the per-batch, per-essay view dashboards read."""
