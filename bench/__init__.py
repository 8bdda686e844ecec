"""The benchmark: a seeded synthetic corpus, the §4 floors, and the harness that compares them.

It sits beside the product, not in it: nothing in ``flows`` imports it, and the wheel does not
carry it. Run it from a checkout with ``python -m bench`` (or ``make bench``); it needs the test
extra (``pip install -e '.[test]'``) for its loopback SMTP sink.
"""
