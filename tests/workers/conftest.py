"""Worker test fixtures: ``tiny_detoxify``, a random-weight Detoxify model loaded offline."""

from __future__ import annotations

import pytest
from tiny_model import TinyDetoxify, block_network, build_tiny_checkpoint, tiny_overrides


@pytest.fixture(scope="session")
def tiny_detoxify(tmp_path_factory: pytest.TempPathFactory) -> TinyDetoxify:
    """A 2-layer, hidden-32 BERT in Detoxify's checkpoint format, written once per session
    and loaded through detoxify's own loader with ``HF_HUB_OFFLINE=1`` and no network.

    ``tiny_detoxify.settings_overrides()`` gives the Settings fields that load it again.
    """
    from server.settings import Settings
    from workers.detoxify_scorer import DetoxifyScorer

    checkpoint, config_dir = build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-detoxify"))
    with pytest.MonkeyPatch.context() as patch, block_network():
        patch.setenv("HF_HUB_OFFLINE", "1")
        settings = Settings(**tiny_overrides(checkpoint, config_dir))
        scorer = DetoxifyScorer.from_settings(settings)
    return TinyDetoxify(checkpoint, config_dir, scorer)
