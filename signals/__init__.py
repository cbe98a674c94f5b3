"""Demand signals over the index: indicators, ratings and the catalogue, forecasts.

Above ``storage`` (it reads any :class:`storage.PostingIndex`), below ``api`` and the CLI. Modules,
each one job:

* ``periods``     – the reporting periods (``2026-07``, ``2026Q3``, ``2026``) and their months;
* ``indicators``  – per occupation × direction × level × region/province × period: demand, share,
                    growth, seasonally adjusted series (STL), repost intensity, posting duration
                    (Kaplan–Meier), pay, requirement mix, each with its sample size;
* ``survival``    – Kaplan–Meier median / 75th percentile from the store's duration histograms
                    (statsmodels);
* ``supply``      – user-supplied graduates (major × province × year) or job seekers, joined to
                    occupations through the taxonomy; demand ÷ supply;
* ``rating``      – each cell against its own history and its peers, published thresholds,
                    intervals, suppression below a minimum sample;
* ``catalogue``   – the urgently-needed-talent catalogue (紧缺人才目录) and its XLSX/HTML/Markdown files;
* ``forecast``    – statsforecast models against naive baselines, chosen by rolling-origin backtest,
                    80 %/95 % intervals, hierarchicalforecast reconciliation; the Job-SDF metrics.

Where no supply data is given, a figure is demand tightness (需求紧张度), never a shortage.
"""
