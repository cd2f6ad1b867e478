"""Shared fixtures. Each fixture family lives in its own module under tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.pki",
    "tests.fixtures.gateway",
    "tests.fixtures.backends",
    "tests.fixtures.elicense",
    "tests.fixtures.postgres",
    "tests.fixtures.redis",
    "tests.fixtures.environment",
    "tests.fixtures.network",
]
