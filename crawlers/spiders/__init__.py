"""Scrapy spiders: the generic JobPosting spider (:mod:`.jobposting`) and board-specific ones."""
