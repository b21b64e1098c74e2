"""Code shared by several test modules: scenario builders (``simkit``) and a stand-in engine
(``stub_engine``). Fixtures live in tests/conftest.py."""
