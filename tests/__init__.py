"""s2sjax's test suite (a package, so tests can import `tests.catalogue` and `tests.fd`)."""
