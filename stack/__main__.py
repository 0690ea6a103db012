"""`python -m stack`: all three servers in one process, each on its own port, CJ wired to the
LPS and RAS beside it unless CJ_LPS_TARGET / CJ_RAS_TARGET say otherwise."""

from __future__ import annotations

import asyncio
import os

from cj_server.app import build_server as build_cj
from cj_server.settings import CjSettings
from llm_provider_server.app import build_server as build_lps
from llm_provider_server.settings import LpsSettings
from ras_server.app import build_server as build_ras
from ras_server.settings import RasSettings
from service_core.logs import configure_logging
from service_core.server import serve


def wired(cj: CjSettings, lps: LpsSettings, ras: RasSettings) -> CjSettings:
    """CJ talks to its neighbours in this process (a port of 0 is only known after binding, so
    those stay as configured)."""
    update = {}
    if "CJ_LPS_TARGET" not in os.environ and lps.port:
        update["lps_target"] = f"127.0.0.1:{lps.port}"
    if "CJ_RAS_TARGET" not in os.environ and ras.port:
        update["ras_target"] = f"127.0.0.1:{ras.port}"
    return cj.model_copy(update=update)


def main() -> None:
    lps, ras = LpsSettings(), RasSettings()
    cj = wired(CjSettings(), lps, ras)
    configure_logging("stack", cj.log_level)
    asyncio.run(serve(build_lps(lps), build_ras(ras), build_cj(cj)))


if __name__ == "__main__":
    main()
