"""README.md's sample output is what its documented command prints today."""

from __future__ import annotations

from scripts.readme_sample import README, block, masked, replace_block, run_sample


def test_readme_sample_matches_the_command() -> None:
    expected = masked(run_sample())
    assert masked(block(README.read_text(encoding="utf-8"))) == expected, (
        "README.md's sample output is stale: run python scripts/readme_sample.py"
    )


def test_mask_hides_only_the_run_time() -> None:
    a = "baseline: 200,000 paths, seed 1, random sampler, 0.4 s\n  p50 USD 4.52 bn\n"
    b = "baseline: 200,000 paths, seed 1, random sampler, 12.0 s\n  p50 USD 4.52 bn\n"
    assert masked(a) == masked(b)
    assert masked(a) != masked(a.replace("4.52", "4.51"))


def test_replace_block_round_trips() -> None:
    text = README.read_text(encoding="utf-8")
    assert block(replace_block(text, "x\n")) == "x\n"
    assert replace_block(text, block(text)) == text
