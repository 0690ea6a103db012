"""The CJ engine, a pure library: no gRPC, no database, no clock or randomness it is not given."""
