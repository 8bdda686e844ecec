"""Test helpers: real servers on loopback and fault injectors (no mocks of the protocol)."""
