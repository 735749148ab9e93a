"""A small corpus in a temporary folder, with its sources file: what the pipeline tests run on."""

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "corpus" / "000_7085f7ec705a095f.txt"
SEED_NAME = "巨各庄镇2020年政府信息公开年报.txt"
PINGTAN = sorted((FIXTURES / "corpus").glob("t*.htm"))

SOURCES_YAML = """\
sources:
  - name: jugezhuang
    region: 北京市密云区
    path: docs/jugezhuang
  - name: pingtan_local
    region: 福建省平潭综合实验区
    path: docs/pingtan
  - name: broken_identity
    region: 测试省测试区
    path: docs/broken_identity
  - name: missing
    path: docs/does_not_exist
"""


def broken_identity_text() -> str:
    """The seed with one total of table 四 altered: 行政复议 总计 3 → 4 (T4 breaks, nothing else)."""
    text = SEED.read_text(encoding="utf-8")
    review = "\t1\n\t1\n\t1\n\t0\n\t3\n\t12\n"  # 行政复议: 维持 1, 纠正 1, 其他 1, 未审结 0, 总计 3; then 12…
    assert text.count(review) == 1
    return text.replace(review, "\t1\n\t1\n\t1\n\t0\n\t4\n\t12\n")


def make_corpus(root: Path) -> Path:
    """Documents under root/docs and root/sources.yaml; returns the sources file.

    jugezhuang: the seed and a broken x.docx (random bytes); pingtan_local: the four Pingtan pages;
    broken_identity: the seed with a T4 total altered, in another region (not a duplicate of the seed);
    missing: a path source whose folder does not exist (a failing source).
    """
    docs = root / "docs"
    (docs / "jugezhuang").mkdir(parents=True)
    (docs / "jugezhuang" / SEED_NAME).write_bytes(SEED.read_bytes())
    (docs / "jugezhuang" / "x.docx").write_bytes(random.Random(7).randbytes(3000))
    (docs / "pingtan").mkdir()
    for page in PINGTAN:
        (docs / "pingtan" / page.name).write_bytes(page.read_bytes())
    (docs / "broken_identity").mkdir()
    (docs / "broken_identity" / SEED_NAME).write_text(broken_identity_text(), encoding="utf-8")
    sources = root / "sources.yaml"
    sources.write_text(SOURCES_YAML, encoding="utf-8")
    return sources


@pytest.fixture(autouse=True, scope="session")
def _own_dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests record into their own Dagster instance, never the project's data/dagster_home (which
    `python -m pipeline run` uses when DAGSTER_HOME is unset). Session-wide, so that module fixtures and
    subprocesses see it too; a test that wants another sets its own."""
    home = tmp_path_factory.mktemp("dagster_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        yield home


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A fresh corpus and sources file in tmp_path; returns the sources file."""
    return make_corpus(tmp_path)
