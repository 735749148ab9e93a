"""One asset per output table, each writing `<data-dir>/warehouse/<table>.parquet` (pipeline.tables)."""

import dagster as dg

from assets.parse import validate
from assets.resources import XxgkConfig, progress
from pipeline.stages import load_staged
from pipeline.tables import TABLE_NAMES, TABLES, TableDef, build_table, write_table

PREVIEW_ROWS = 10


def column_schema(tdef: TableDef) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=not c.required),
            )
            for c in tdef.columns
        ]
    )


def _table_asset(name: str) -> dg.AssetsDefinition:
    tdef = TABLES[name]

    @dg.asset(
        name=name,
        group_name="warehouse",
        kinds={"parquet", "pandas"},
        deps=[validate],
        description=tdef.description,
        metadata={"dagster/column_schema": column_schema(tdef)},
    )
    def _table(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
        settings = xxgk.settings()
        df = build_table(name, load_staged(settings))
        path = write_table(name, df, settings.warehouse_dir / tdef.filename())
        progress(context)(f"{name}: {len(df)} rows → {path}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(df),
                "dagster/column_schema": column_schema(tdef),
                "path": dg.MetadataValue.path(str(path)),
                "preview": dg.MetadataValue.md(df.head(PREVIEW_ROWS).to_markdown(index=False)),
            }
        )

    return _table


TABLE_ASSETS: dict[str, dg.AssetsDefinition] = {name: _table_asset(name) for name in TABLE_NAMES}
