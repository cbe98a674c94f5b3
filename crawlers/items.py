"""What the spiders yield: one JobPosting found on one page, as a flat record."""

from __future__ import annotations

import scrapy


class PostingItem(scrapy.Item):
    """A flat record (:mod:`crawlers.jsonld`) and the validators of the page it came from.

    ``posting`` is filled by :class:`crawlers.pipelines.ValidatePipeline` (a
    :class:`skillsignal.core.models.Posting`).
    """

    record = scrapy.Field()
    url = scrapy.Field()
    etag = scrapy.Field()
    last_modified = scrapy.Field()
    posting = scrapy.Field()
