"""The benchmark: a seeded synthetic corpus, the §4 floors, and the harness that compares them.

Nothing here is imported by the product; ``hoering bench`` loads it on demand.
"""
