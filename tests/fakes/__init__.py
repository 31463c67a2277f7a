"""Fakes of hosted APIs: real aiohttp servers on free local ports, one module per platform."""
