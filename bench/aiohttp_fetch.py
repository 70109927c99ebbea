#!/usr/bin/env python3
"""The aiohttp peer for fetch_bench: fetch every URL in FILE with N in flight."""
import asyncio
import sys

import aiohttp


async def main(path, n):
    with open(path) as f:
        urls = [l.strip() for l in f if l.strip()]
    sem = asyncio.Semaphore(n)
    conn = aiohttp.TCPConnector(limit=n)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as s:
        async def one(u):
            async with sem:
                async with s.get(u) as r:
                    await r.read()
        await asyncio.gather(*(one(u) for u in urls))


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
