"""Repositories: each turns rows into domain objects for one aggregate."""
