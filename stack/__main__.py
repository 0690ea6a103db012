"""`python -m stack`: all three servers in one process, each on its own port."""

from __future__ import annotations

import asyncio

from cj_server.app import build_server as build_cj
from cj_server.settings import CjSettings
from llm_provider_server.app import build_server as build_lps
from llm_provider_server.settings import LpsSettings
from ras_server.app import build_server as build_ras
from ras_server.settings import RasSettings
from service_core.logs import configure_logging
from service_core.server import serve


def main() -> None:
    cj, lps, ras = CjSettings(), LpsSettings(), RasSettings()
    configure_logging("stack", cj.log_level)
    asyncio.run(serve(build_lps(lps), build_ras(ras), build_cj(cj)))


if __name__ == "__main__":
    main()
