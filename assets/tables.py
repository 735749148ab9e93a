"""One asset per output table, each writing `<data-dir>/warehouse/<table>.parquet` (pipeline.tables) from
the validate stage's staging snapshot (only the columns it needs)."""

import dagster as dg

from assets.metadata_keys import description_of
from assets.parse import validate
from assets.resources import XxgkConfig, progress
from pipeline.stages import load_snapshot
from pipeline.staging import release_memory
from pipeline.tables import (
    SNAPSHOT_COLUMNS,
    TABLE_NAMES,
    TABLES,
    TableDef,
    build_arrow,
    to_frame,
    write_table,
)

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
        description=tdef.description + description_of("<each table>"),
        metadata={"dagster/column_schema": column_schema(tdef)},
    )
    def _table(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
        settings = xxgk.settings()
        log = progress(context)
        table = build_arrow(name, load_snapshot(settings, SNAPSHOT_COLUMNS[name], log=log))
        path = write_table(name, table, settings.warehouse_dir / tdef.filename())
        log(f"{name}: {table.num_rows} rows → {path}")
        preview = to_frame(table.slice(0, PREVIEW_ROWS))
        rows = table.num_rows
        del table
        release_memory()
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": column_schema(tdef),
                "path": dg.MetadataValue.path(str(path)),
                "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
            }
        )

    return _table


TABLE_ASSETS: dict[str, dg.AssetsDefinition] = {name: _table_asset(name) for name in TABLE_NAMES}
