"""Pure LPS logic: no gRPC, no database, no clock or randomness it is not given."""
