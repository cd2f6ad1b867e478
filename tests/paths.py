"""Where the checkout is, for tests that read its files (README, docs, contracts) or start its commands."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
