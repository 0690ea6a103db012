"""`python -m ras_server`: serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio

from ras_server.app import SERVER_NAME, build_server
from ras_server.settings import RasSettings
from service_core.logs import configure_logging
from service_core.server import serve


def main() -> None:
    settings = RasSettings()
    configure_logging(SERVER_NAME, settings.log_level)
    asyncio.run(serve(build_server(settings)))


if __name__ == "__main__":
    main()
