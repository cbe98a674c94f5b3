"""Adapters for Chinese job boards' public response shapes -> flat records -> postings.

=========  ===========================================  ==========================================
board      reads                                        functions
=========  ===========================================  ==========================================
BOSS直聘   list JSON ``zpData.jobList`` + detail HTML   :func:`boss.parse_list`, :func:`boss.parse_detail`
51job      search JSON (old ``engine_search_result``    :func:`job51.parse_search`
           and API ``resultbody.job.items``)
Zhaopin    position JSON (search ``data.results`` or    :func:`zhaopin.parse_positions`
           one position)
Liepin     job detail page HTML                         :func:`liepin.parse_detail`
=========  ===========================================  ==========================================

Records keep the employer's skill tags (BOSS ``skills``, 51job ``jobTags``, Zhaopin
``skillLabel``) first in ``tags``, then welfare tags. ``to_postings`` makes postings (or
``RecordError``s). A block / verification answer raises :class:`BoardBlocked`; an
unexpected shape raises :class:`BoardFormatError`.
"""

from . import boss, job51, liepin, zhaopin
from .base import BoardBlocked, BoardFormatError, Record, to_postings

__all__ = ["BoardBlocked", "BoardFormatError", "Record", "boss", "job51", "liepin", "to_postings", "zhaopin"]
