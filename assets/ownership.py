"""Owners and tags of every asset, from the environment: who answers for the data, and how to filter it.

`XXGK_ASSET_OWNERS`: comma-separated owners, each an e-mail address or `team:<name>` (Dagster's owner
forms); default `team:xxgk`. `XXGK_ASSET_TAGS`: comma-separated `key=value` pairs added to every asset
(e.g. `env=prod,domain=disclosure`). Every asset also carries `xxgk/layer`: `stages` (scrape, parse,
validate) or `warehouse` (the tables and the summary page), its group.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import dagster as dg

OWNERS_ENV = "XXGK_ASSET_OWNERS"
TAGS_ENV = "XXGK_ASSET_TAGS"
DEFAULT_OWNERS = ("team:xxgk",)
LAYER_TAG = "xxgk/layer"


def asset_owners() -> list[str]:
    """The owners named by XXGK_ASSET_OWNERS (default team:xxgk)."""
    raw = os.environ.get(OWNERS_ENV, "")
    owners = [o.strip() for o in raw.split(",") if o.strip()] or list(DEFAULT_OWNERS)
    for owner in owners:
        if not (owner.startswith("team:") and len(owner) > 5) and "@" not in owner:
            raise ValueError(f"{OWNERS_ENV}: {owner!r} is neither an e-mail address nor team:<name>")
    return owners


def asset_tags() -> dict[str, str]:
    """The tags named by XXGK_ASSET_TAGS (`key=value,…`)."""
    tags = {}
    for pair in os.environ.get(TAGS_ENV, "").split(","):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{TAGS_ENV}: {pair.strip()!r} is not key=value")
        tags[key.strip()] = value.strip()
    return tags


def with_ownership(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with the configured owners and tags, and their layer tag (their group name)."""
    owners, tags = asset_owners(), asset_tags()

    def own(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(owners=owners).merge_attributes(
            tags={**tags, LAYER_TAG: spec.group_name or "default"}
        )

    return list(dg.map_asset_specs(own, list(assets)))
