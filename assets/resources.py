"""Resources: where the sources file and the data dir are (CONTRACT.md: XXGK_SOURCES, XXGK_DATA_DIR)."""

import logging
from collections.abc import Callable

import dagster as dg

from pipeline.config import Settings, load_settings

#: Progress lines of the stages also go to this Python logger: `python -m pipeline run` prints them.
PROGRESS_LOGGER = "xxgk.progress"


class XxgkConfig(dg.ConfigurableResource):
    """The sources file and the data dir. Unset fields fall back to the environment variables
    XXGK_SOURCES / XXGK_DATA_DIR at run time, then to the defaults `data/sources.yaml` and `data/`."""

    sources_file: str | None = None
    data_dir: str | None = None

    def settings(self) -> Settings:
        """Settings with the sources file read and validated (ConfigError says what is wrong)."""
        return load_settings(self.sources_file, self.data_dir)


def progress(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Callable[[str], None]:
    """A `log` callable for pipeline functions: the Dagster run log plus the terminal's progress logger."""
    terminal = logging.getLogger(PROGRESS_LOGGER)

    def log(message: str) -> None:
        context.log.info(message)
        terminal.info(message)

    return log


def warn(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, message: str) -> None:
    """A WARNING line in the Dagster run log (and on the terminal): a failed document, never hidden among
    the progress lines."""
    context.log.warning(message)
    logging.getLogger(PROGRESS_LOGGER).warning(message)
