"""The whole asset graph, materialized in-process on a temporary data dir over a small real corpus:
every source partition of scrape and parse, then validate and the tables (assets.launch)."""

import hashlib
import json

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets.definitions import ALL_CHECKS, build_assets, defs, source_partitions
from assets.launch import Launch, launch
from assets.resources import XxgkConfig
from pipeline import PARSER_VERSION
from pipeline.config import load_settings
from pipeline.store import report_id_for
from pipeline.tables import TABLE_NAMES, TABLES
from tests.conftest import FIXTURES, PINGTAN, SEED_NAME, make_corpus

KEYS = ["report_id", "region", "agency", "year"]
CONTRACT_COLUMNS = {  # CONTRACT.md "Output tables" and its v2 additions (cells.unreadable, box_*: documented)
    "reports": [
        "report_id", "source", "region", "agency", "year", "title", "url", "format", "content_sha256",
        "fetched_at", "template", "status", "error", "duplicate_of", "checks_failed", "parser_version",
        "reader", "pages",
    ],
    "applications": [
        *KEYS, "row_code", "row_label", "natural_person", "commercial_enterprise", "research_institution",
        "social_welfare_org", "legal_service_org", "other_org", "total",
    ],
    "review_litigation": [*KEYS, "proceeding", "upheld", "corrected", "other", "pending", "total"],
    "proactive_disclosure": [
        *KEYS, "article_item", "category_code", "category_label", "metric_code", "metric_label", "value", "unit",
    ],
    "cells": [
        *KEYS, "table", "row_code", "column_code", "raw_text", "value", "source_table", "source_row",
        "source_col", "unreadable", "source_page", "confidence", "box_x0", "box_y0", "box_x1", "box_y1",
    ],
    "validation_issues": [*KEYS, "check", "scope", "expected", "actual", "severity", "message"],
    "indicators": [
        *KEYS, "template", "applications_new", "applications_carried_over", "applications_received",
        "applications_processed", "granted", "partially_granted", "denied", "unavailable", "not_processed",
        "other_handling", "carried_forward", "grant_rate", "reviews", "reviews_corrected",
        "review_corrected_share", "lawsuits", "lawsuits_corrected", "lawsuit_corrected_share",
        "normative_documents_issued", "normative_documents_in_force", "fees_10k_yuan",
    ],
}  # fmt: skip
INTEGER_COLUMNS = {
    "year", "checks_failed", "natural_person", "commercial_enterprise", "research_institution",
    "social_welfare_org", "legal_service_org", "other_org", "total", "upheld", "corrected", "other",
    "pending", "article_item", "source_table", "source_row", "source_col", "pages", "source_page",
    *CONTRACT_COLUMNS["indicators"][5:],
}  # fmt: skip
FLOAT_COLUMNS = {
    "value", "expected", "actual", "confidence", "box_x0", "box_y0", "box_x1", "box_y1", "grant_rate",
    "review_corrected_share", "lawsuit_corrected_share", "fees_10k_yuan",
}  # fmt: skip
INTEGER_COLUMNS -= FLOAT_COLUMNS

SEED_ID = report_id_for("jugezhuang", SEED_NAME)
BROKEN_DOCX_ID = report_id_for("jugezhuang", "x.docx")
BROKEN_IDENTITY_ID = report_id_for("broken_identity", SEED_NAME)
TRUTH = {
    SEED_ID: "seed_jugezhuang_2020",
    report_id_for("pingtan_local", "t20200120_80576.htm"): "pingtan_2019",
    report_id_for("pingtan_local", "t20220208_80613.htm"): "pingtan_2021",
    report_id_for("pingtan_local", "t20240308_87885.htm"): "pingtan_2023",
    report_id_for("pingtan_local", "t20260313_105587.htm"): "pingtan_2025",
}
assert len(PINGTAN) == 4


def materialize(sources, data_dir) -> Launch:
    return launch(load_settings(sources, data_dir))


def metadata(result: Launch, asset: str) -> dict:
    """The asset's metadata; for a partitioned asset, numbers added up over its partitions."""
    rows = result.metadata(asset)
    if len(rows) == 1:
        return rows[0]
    return {k: sum(r[k] for r in rows) for k in rows[0] if isinstance(rows[0][k], int)}


def read_tables(data_dir) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(data_dir / "warehouse" / f"{name}.parquet") for name in TABLE_NAMES}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    sources = make_corpus(root)
    data_dir = root / "data"
    result = materialize(sources, data_dir)
    return {"sources": sources, "data_dir": data_dir, "result": result, "tables": read_tables(data_dir)}


@pytest.fixture(scope="module")
def tables(run) -> dict[str, pd.DataFrame]:
    return run["tables"]


def _native(x):
    return None if pd.isna(x) else x


def _rows(df: pd.DataFrame, report_id: str) -> pd.DataFrame:
    return df[df["report_id"] == report_id]


# ------------------------------------------------------------------------------------------------ shape


def test_run_succeeds_and_writes_six_tables_with_the_contract_schema(run):
    assert run["result"].success
    for name in TABLE_NAMES:
        path = run["data_dir"] / "warehouse" / f"{name}.parquet"
        assert path.exists(), name
        schema = pq.read_schema(path)
        assert schema.names == CONTRACT_COLUMNS[name]
        expected = TABLES[name].schema
        assert [(f.name, f.type, f.nullable) for f in schema] == [
            (f.name, f.type, f.nullable) for f in expected
        ]
        for field in schema:
            if field.name in INTEGER_COLUMNS:
                assert field.type == pa.int64(), (name, field.name)
            elif field.name in FLOAT_COLUMNS:
                assert field.type == pa.float64(), (name, field.name)
            elif field.name == "fetched_at":
                assert field.type == pa.timestamp("us", tz="UTC")
            else:
                assert field.type == pa.string(), (name, field.name)


def test_tables_are_readable_with_duckdb(run):
    path = run["data_dir"] / "warehouse" / "reports.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall() == [(7,)]


def test_reports_has_one_row_per_document(tables, run):
    reports = tables["reports"].set_index("report_id")
    assert len(reports) == 7  # seed, x.docx, four Pingtan pages, the broken-identity copy
    assert set(reports["source"]) == {"jugezhuang", "pingtan_local", "broken_identity"}
    seed = reports.loc[SEED_ID]
    assert (seed["region"], seed["agency"], seed["year"]) == ("北京市密云区", "巨各庄镇", 2020)
    assert (seed["url"], seed["format"], seed["status"]) == (SEED_NAME, "txt", "ok")
    assert (
        seed["content_sha256"]
        == hashlib.sha256((FIXTURES / "corpus" / "000_7085f7ec705a095f.txt").read_bytes()).hexdigest()
    )
    assert (
        seed["parser_version"] == PARSER_VERSION and pd.isna(seed["duplicate_of"]) and pd.isna(seed["error"])
    )
    assert seed["fetched_at"].tzinfo is not None
    assert set(reports.loc[list(TRUTH), "region"]) == {"北京市密云区", "福建省平潭综合实验区"}


def test_broken_document_is_a_failed_row_and_the_others_are_written(tables):
    reports = tables["reports"].set_index("report_id")
    broken = reports.loc[BROKEN_DOCX_ID]
    assert broken["status"] == "failed"
    assert isinstance(broken["error"], str) and broken["error"]
    assert broken["format"] == "docx" and pd.isna(broken["checks_failed"])
    assert (reports.drop(index=BROKEN_DOCX_ID)["status"] == "ok").all()
    for name in ("applications", "review_litigation", "proactive_disclosure", "cells"):
        assert BROKEN_DOCX_ID not in set(tables[name]["report_id"])
        assert set(TRUTH) <= set(tables[name]["report_id"]), name


def test_data_tables_hold_ok_reports_only(tables):
    ok = set(tables["reports"].loc[tables["reports"]["status"] == "ok", "report_id"])
    for name in ("applications", "review_litigation", "proactive_disclosure"):
        assert set(tables[name]["report_id"]) <= ok


def test_every_table_is_sorted_by_region_agency_year(tables):
    for name, df in tables.items():
        key = df[["region", "agency", "year", "report_id"]]
        again = key.sort_values(["region", "agency", "year", "report_id"], na_position="last", kind="stable")
        assert key.index.equals(again.index), name


def test_applications_rows_follow_the_template(tables):
    seed = _rows(tables["applications"], SEED_ID)
    assert seed["row_code"].iloc[0] == "new_received" and seed["row_code"].iloc[-1] == "carried_forward"
    assert seed.iloc[0]["row_label"] == "一、本年新收政府信息公开申请数量"
    assert str(seed["total"].dtype) == "Int64"


def test_a_failing_source_is_recorded_and_does_not_stop_the_others(run):
    result = run["result"]
    assert sorted(m["source"] for m in result.metadata("scrape")) == [
        "broken_identity",
        "jugezhuang",
        "pingtan_local",
    ]
    assert sorted(m["source"] for m in result.metadata("parse")) == [
        "broken_identity",
        "jugezhuang",
        "pingtan_local",
    ]
    assert list(result.source_failures()) == ["missing"]  # its partition failed, the others were not blocked
    failure = result.source_failures()["missing"]
    assert failure["ok"] is False and "does not exist" in failure["error"] and failure["kind"] == "path"
    assert [(f.step, f.source_failed) for f in result.failures()] == [("scrape[missing]", True)]
    assert result.success  # a source that fails is a recorded finding, not a failed run
    status = json.loads((run["data_dir"] / "raw" / "status" / "missing.json").read_text(encoding="utf-8"))
    assert status["ok"] is False and "does not exist" in status["error"]
    assert metadata(result, "scrape")["documents"] == 7
    assert "| missing | path |" in metadata(result, "validate")["sources"]  # the per-source run summary


def test_table_assets_report_rows_schema_and_preview(run, tables):
    for name in TABLE_NAMES:
        meta = metadata(run["result"], name)
        assert meta["dagster/row_count"] == len(tables[name])
        assert [c.name for c in meta["dagster/column_schema"].columns] == CONTRACT_COLUMNS[name]
        assert meta["path"].endswith(f"{name}.parquet")
        assert meta["preview"].startswith("|")


# ------------------------------------------------------------------------------------------------ truth


def _truth(name: str) -> dict:
    return json.loads((FIXTURES / "truth" / f"{name}.json").read_text(encoding="utf-8"))


APP_COLUMNS = CONTRACT_COLUMNS["applications"][6:]
OUTCOMES = CONTRACT_COLUMNS["review_litigation"][5:]


@pytest.mark.parametrize("report_id", sorted(TRUTH), ids=[TRUTH[k] for k in sorted(TRUTH)])
def test_tables_match_the_published_values(tables, report_id):
    truth = _truth(TRUTH[report_id])
    report = tables["reports"].set_index("report_id").loc[report_id]
    assert (report["status"], report["agency"], report["year"]) == ("ok", truth["agency"], truth["year"])
    assert (report["title"], report["template"]) == (truth["title"], truth["template"])

    apps = _rows(tables["applications"], report_id)
    got = {r["row_code"]: [_native(r[c]) for c in APP_COLUMNS] for _, r in apps.iterrows()}
    assert got == truth["applications"]

    review = _rows(tables["review_litigation"], report_id)
    got = {r["proceeding"]: [_native(r[c]) for c in OUTCOMES] for _, r in review.iterrows()}
    assert got == truth["review_litigation"]

    def key(article_item, code, metric, label):
        return (article_item, code or "", metric, "" if code else label)

    proactive = _rows(tables["proactive_disclosure"], report_id)
    got = {
        key(r["article_item"], _native(r["category_code"]), r["metric_code"], r["category_label"]): _native(
            r["value"]
        )
        for _, r in proactive.iterrows()
    }
    want = {
        key(p["article_item"], p["category_code"], p["metric_code"], p.get("category_label")): p["value"]
        for p in truth["proactive"]
    }
    assert got.keys() == want.keys()
    for k, value in want.items():
        assert got[k] == pytest.approx(value, rel=1e-9, abs=1e-9), k
    amounts = proactive[proactive["metric_code"].isin(["procurement_amount", "fee_amount"])]
    assert (amounts["unit"] == "10k_yuan").all()

    issues = _rows(tables["validation_issues"], report_id)
    assert sorted(set(issues["check"]) & {"T3-A", "T3-B", "T3-C", "T4"}) == sorted(truth["failed_checks"])


def test_every_data_value_traces_to_a_cell(tables):
    cells = tables["cells"]
    seed = _rows(cells, SEED_ID)
    upheld = seed[(seed["row_code"] == "litigation_direct") & (seed["column_code"] == "upheld")]
    assert upheld[["raw_text", "value"]].values.tolist() == [["12", 12.0]]
    assert (seed[["source_table", "source_row", "source_col"]] >= 0).all().all()


# ------------------------------------------------------------------------------------------------ checks


def test_a_broken_identity_is_a_finding_and_a_warning_check(run, tables):
    issues = _rows(tables["validation_issues"], BROKEN_IDENTITY_ID)
    t4 = issues[issues["check"] == "T4"]
    assert t4[["scope", "expected", "actual", "severity"]].values.tolist() == [
        ["proceeding administrative_review", 3.0, 4.0, "error"]
    ]
    assert "table 四" in t4["message"].iloc[0]
    reports = tables["reports"].set_index("report_id")
    assert reports.loc[BROKEN_IDENTITY_ID, "status"] == "ok"
    assert reports.loc[BROKEN_IDENTITY_ID, "checks_failed"] == 1
    assert BROKEN_IDENTITY_ID in set(tables["review_litigation"]["report_id"])  # still written

    all_evaluations = run["result"].check_evaluations()
    evaluations = {e.check_name: e for e in all_evaluations if e.check_name.startswith("identity_")}
    assert set(evaluations) == {"identity_t3_a", "identity_t3_b", "identity_t3_c", "identity_t4"}
    # and each source's fetch_failures / parse_failures (tests/test_monitoring.py)
    assert sorted(e.check_name for e in all_evaluations if not e.check_name.startswith("identity_")) == [
        *["fetch_failures"] * 3,
        *["parse_failures"] * 3,
    ]
    t4_check = evaluations["identity_t4"]
    assert not t4_check.passed and t4_check.severity == dg.AssetCheckSeverity.WARN
    assert t4_check.asset_key == dg.AssetKey("review_litigation")
    assert t4_check.metadata["failing_reports"].value == 1
    assert t4_check.metadata["report_ids"].value == [BROKEN_IDENTITY_ID]
    assert all(evaluations[name].passed for name in ("identity_t3_a", "identity_t3_b", "identity_t3_c"))


# ------------------------------------------------------------------------------------------------ re-runs


def test_second_run_parses_nothing_and_leaves_identical_tables(run, tables):
    again = materialize(run["sources"], run["data_dir"])
    assert again.success
    scrape, parse = metadata(again, "scrape"), metadata(again, "parse")
    assert (scrape["fetched"], scrape["not_modified"]) == (0, 7)
    assert (parse["parsed"], parse["cache_hits"], parse["documents"]) == (0, 7, 7)  # x.docx: a cached failure
    validate = metadata(again, "validate")  # the staging snapshot is reused: no parse cache entry is read
    assert (validate["reused_from_last_snapshot"], validate["read_from_parse_cache"]) == (7, 0)
    for name, df in read_tables(run["data_dir"]).items():
        pd.testing.assert_frame_equal(df, tables[name], check_exact=True, obj=name)


def test_a_run_from_scratch_elsewhere_gives_the_same_tables(tables, tmp_path):
    """The same inputs in another folder, a new data dir: the same tables, report_ids included.
    Only `reports.fetched_at` (when the bytes were fetched) may differ."""
    sources = make_corpus(tmp_path / "elsewhere")
    data = tmp_path / "data"
    assert materialize(sources, data).success
    for name, df in read_tables(data).items():
        expected = tables[name]
        if name == "reports":
            assert df["fetched_at"].notna().all()
            df, expected = df.drop(columns="fetched_at"), expected.drop(columns="fetched_at")
        pd.testing.assert_frame_equal(df, expected, check_exact=True, obj=name)


def test_any_table_asset_can_be_materialized_alone(run, tables):
    path = run["data_dir"] / "warehouse" / "applications.parquet"
    path.unlink()
    settings = load_settings(run["sources"], run["data_dir"])
    alone = dg.materialize(
        [*build_assets(source_partitions(settings)), *ALL_CHECKS],
        resources={"xxgk": XxgkConfig(sources_file=str(run["sources"]), data_dir=str(run["data_dir"]))},
        instance=dg.DagsterInstance.ephemeral(),
        selection=["applications"],
    )
    assert alone.success
    assert [e.asset_key for e in alone.get_asset_materialization_events()] == [dg.AssetKey("applications")]
    pd.testing.assert_frame_equal(pd.read_parquet(path), tables["applications"])


def test_definitions_load_with_resources_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XXGK_SOURCES", str(make_corpus(tmp_path)))
    monkeypatch.setenv("XXGK_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = XxgkConfig().settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    names = ["jugezhuang", "pingtan_local", "broken_identity", "missing"]
    assert [s.name for s in settings.sources] == names
    loaded = defs()  # workspace.yaml's `defs`: built when Dagster loads it, from the environment
    assert loaded.resolve_implicit_global_asset_job_def() is not None
    assert loaded.resolve_job_def("xxgk_sources").partitions_def.get_partition_keys() == names


def test_two_documents_of_one_report_one_is_canonical(tmp_path):
    """The stages without Dagster: the same report found twice → one ok, one duplicate pointing at it."""
    from pipeline.config import load_settings
    from pipeline.scrape import scrape_all
    from pipeline.stages import load_staged, parse_all, validate_all
    from pipeline.tables import build_table
    from tests.conftest import SEED

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / SEED_NAME).write_bytes(SEED.read_bytes())
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {name: a, region: 某区, path: a}\n  - {name: b, region: 某区, path: b}\n",
        encoding="utf-8",
    )
    settings = load_settings(sources, tmp_path / "data")
    scrape_all(settings)
    parse_all(settings)
    validate_all(settings)
    staged = load_staged(settings)
    reports = build_table("reports", staged).set_index("source")
    assert sorted(reports["status"]) == ["duplicate", "ok"]
    dup = reports[reports["status"] == "duplicate"].iloc[0]
    assert dup["duplicate_of"] == reports[reports["status"] == "ok"].iloc[0]["report_id"]
    assert build_table("applications", staged)["report_id"].nunique() == 1
