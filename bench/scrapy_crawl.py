#!/usr/bin/env python3
"""The Scrapy peer for crawl_bench: crawl START within its host, unlimited
depth, CONCURRENT connections, writing each fetched URL to OUT (one per line).
Usage: scrapy_crawl.py START OUT CONCURRENT"""
import sys
from urllib.parse import urlparse

from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

start, out, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urlparse(start).hostname
fetched = open(out, "w")


class Site(CrawlSpider):
    name = "site"
    allowed_domains = [host]
    start_urls = [start]
    rules = (Rule(LinkExtractor(deny_extensions=[]), callback="seen", follow=True),)  # scope: allowed_domains

    def parse_start_url(self, response):
        fetched.write(response.url + "\n")
        return []

    def seen(self, response):
        fetched.write(response.url + "\n")


p = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": conc, "CONCURRENT_REQUESTS_PER_DOMAIN": conc,
                    "ROBOTSTXT_OBEY": True, "TELNETCONSOLE_ENABLED": False, "DEPTH_LIMIT": 0,
                    "COOKIES_ENABLED": False, "RETRY_ENABLED": False})
p.crawl(Site)
p.start()
fetched.close()
