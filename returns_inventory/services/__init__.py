"""Use cases. Each takes plain values and a unit-of-work factory, and commits once."""
