"""What the tests share beyond fixtures: the repository's root, hostile files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
