"""Pure RAS logic: phase bookkeeping and the batch status derived from it."""
