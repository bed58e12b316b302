"""Settings of the test suite: those of the portal with a signing key of the tests' own (the
portal refuses to start without one when DEBUG is off)."""
import os

os.environ.setdefault("SECRET_KEY", "test-suite-only-key-e3b9c1d2a7f64b0c8e5d4f3a2b1c0d9e8f7a6b5c4d3e2f1a")

from portal.settings import *  # noqa: E402, F403
