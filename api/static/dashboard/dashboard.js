/* SkillSignal dashboard: every number comes from the project's own /v1 API. */
(function () {
  "use strict";

  const I18N = window.SKILLSIGNAL_I18N;
  const state = {
    lang: localStorage.getItem("skillsignal.lang") || "zh",
    occupations: [],       // taxonomy occupations (code, names, directions)
    compare: [],           // skill ids chosen in the compare box
    compareEdited: false,  // until the user picks or removes a skill, the box follows the filter's top skills
    shown: {},             // chart id -> {columns, rows} for the CSV download
    charts: {},
    generation: 0,         // bumps on every refresh so late answers are ignored
    view: window.location.hash === "#catalogue" ? "catalogue" : "overview",
    catalogueGeneration: 0,  // bumps on every catalogue request so late answers are ignored
    defaultPeriod: null,     // the quarter of the latest month with postings
  };
  const t = (key) => (I18N[state.lang] && I18N[state.lang][key]) || key;
  const EMERGING_COLOR = "#2563eb";  // significant after the false-discovery-rate control
  const NOISE_COLOR = "#c0c4cc";     // share grew, within noise
  const COMPARE_START = 3;           // the comparison starts from this many of the filter's top skills

  // ---------------------------------------------------------------- API access
  const API = {
    async get(path, params) {
      const url = new URL(path, window.location.origin);
      Object.entries(params || {}).forEach(([k, v]) => {
        if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
        else if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
      });
      return API.handle(await fetch(url));
    },
    async post(path, body) {
      const res = await fetch(path, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      return API.handle(res);
    },
    async handle(res) {
      if (!res.ok) {
        let detail = res.statusText;
        try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
        // a 422 lists its problems ({loc, msg, type}); each message names its parameter
        if (Array.isArray(detail)) detail = detail.map((p) => p.msg || JSON.stringify(p)).join("; ");
        throw new Error(`${res.status} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
      }
      return res.json();
    },
    occupations: () => API.get("/v1/taxonomy/occupations"),
    totals: (filter) => API.post("/v1/totals", { filter }),
    rankingSeries: (facet, filter, extra) =>
      API.post(`/v1/rankings/${facet}/timeseries`, Object.assign({ filter, interval: "month" }, extra || {})),
    ranking: (facet, filter, extra) => API.post(`/v1/rankings/${facet}`, Object.assign({ filter }, extra || {})),
    competencies: (filter) => API.post("/v1/rankings/competencies", { filter, limit: 15 }),
    // small windows hold few postings: ask for growth seen in at least 3 of them; the skills whose
    // share grew but not significantly after the false-discovery-rate control come too (greyed)
    emerging: (filter) => API.post("/v1/skills/emerging",
      { filter, limit: 10, min_count: 3, alpha: 0.05, within_noise: true }),
    searchSkills: (q) => API.get("/v1/skills/search", { q, limit: 8 }),
    monthly: () => API.post("/v1/timeseries", { filter: {}, interval: "month" }),
    catalogue: (params) => API.get("/v1/catalogue", params),
  };

  // ---------------------------------------------------------------- filters
  function currentFilter() {
    const f = {};
    const val = (id) => document.getElementById(id).value;
    if (val("f-start")) f.start = val("f-start");
    if (val("f-end")) f.end = val("f-end");
    [["f-occupation", "occupations"], ["f-direction", "directions"], ["f-level", "levels"],
      ["f-region", "regions"], ["f-province", "provinces"]].forEach(([id, key]) => {
      if (val(id)) f[key] = [val(id)];
    });
    return f;
  }

  function occupationName(code) {
    const occ = state.occupations.find((o) => o.code === code);
    if (!occ) return code === "other" ? t("other") : code;
    return state.lang === "zh" ? occ.name_zh : occ.name_en;
  }

  function fillOccupations() {
    const sel = document.getElementById("f-occupation");
    const keep = sel.value;
    sel.querySelectorAll("option:not([value=''])").forEach((o) => o.remove());
    state.occupations.forEach((o) => {
      const opt = document.createElement("option");
      opt.value = o.code;
      opt.textContent = `${state.lang === "zh" ? o.name_zh : o.name_en} (${o.code})`;
      sel.appendChild(opt);
    });
    sel.value = keep;
    fillDirections();
  }

  function fillDirections() {
    const sel = document.getElementById("f-direction");
    const keep = sel.value;
    sel.querySelectorAll("option:not([value=''])").forEach((o) => o.remove());
    const occ = state.occupations.find((o) => o.code === document.getElementById("f-occupation").value);
    (occ ? occ.directions || [] : []).forEach((d) => {
      const opt = document.createElement("option");
      opt.value = d.id;
      opt.textContent = state.lang === "zh" ? d.name_zh : d.name_en;
      sel.appendChild(opt);
    });
    sel.value = occ && (occ.directions || []).some((d) => d.id === keep) ? keep : "";
  }

  async function fillProvinces() {
    const sel = document.getElementById("f-province");
    const data = await API.ranking("provinces", {}, { limit: 40 });
    data.buckets.forEach((b) => {
      const opt = document.createElement("option");
      opt.value = b.key;
      opt.textContent = b.name || b.key;
      sel.appendChild(opt);
    });
  }

  // ---------------------------------------------------------------- chart states
  function chart(id) {
    if (!state.charts[id]) state.charts[id] = echarts.init(document.getElementById(id));
    return state.charts[id];
  }

  function setState(id, kind, message) {
    const box = document.getElementById(id);
    const card = box.parentElement;
    let overlay = card.querySelector(".state");
    if (!kind) { if (overlay) overlay.remove(); box.dataset.state = "ready"; return; }
    if (!overlay) { overlay = document.createElement("div"); card.appendChild(overlay); }
    overlay.className = `state ${kind}`;
    overlay.textContent = kind === "loading" ? t("loading")
      : kind === "empty" ? message || t("empty") : t("error") + message;
    box.dataset.state = kind;
  }

  async function render(id, load, draw) {
    const generation = state.generation;
    setState(id, "loading");
    try {
      const data = await load();
      if (generation !== state.generation) return;
      const table = draw(data);
      state.shown[id] = table;
      setState(id, table.rows.length ? null : "empty");
    } catch (err) {
      if (generation !== state.generation) return;
      state.shown[id] = { columns: [], rows: [] };
      chart(id).clear();
      setState(id, "error", err.message);
    }
  }

  function seriesChart(id, data, nameOf, stacked) {
    const periods = data.series.length ? data.series[0].points.map((p) => p.period.slice(0, 7)) : [];
    const series = data.series.map((s) => ({
      name: nameOf(s), type: stacked ? "bar" : "line", stack: stacked ? "all" : undefined,
      data: s.points.map((p) => p.unique_postings),
    }));
    chart(id).setOption({
      tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 60, bottom: 28 },
      xAxis: { type: "category", data: periods }, yAxis: { type: "value", name: t("postings") },
      series,
    }, true);
    const rows = [];
    data.series.forEach((s) => s.points.forEach((p) => rows.push([p.period, s.key, nameOf(s), p.unique_postings])));
    return { columns: ["period", "key", "name", "unique_postings"], rows: series.some((s) => s.data.some((v) => v)) ? rows : [] };
  }

  function barChart(id, labels, values, extra) {
    chart(id).setOption(Object.assign({
      tooltip: { trigger: "axis" }, grid: { left: 100, right: 40, top: 10, bottom: 24 },
      xAxis: { type: "value" }, yAxis: { type: "category", data: labels.slice().reverse() },
      series: [{ type: "bar", data: values.slice().reverse(), label: { show: true, position: "right" } }],
    }, extra || {}), true);
  }

  // The top skills under the filter, and each one's growth of share: the emerging-skills window
  // against the one before it (the same windows /v1/skills/emerging tests), null where the skill
  // had no postings before.
  async function topSkillsWithGrowth(filter, topSkills) {
    const [top, em] = await Promise.all([topSkills, API.emerging(filter)]);
    const growth = {};
    const keys = top.buckets.map((b) => b.key);
    if (keys.length && em.n_current && em.n_previous) {
      const counts = (start, end) => API.ranking("skills", Object.assign({}, filter, { start, end, skills: keys }), { limit: 200 })
        .then((r) => Object.fromEntries(r.buckets.map((b) => [b.key, b.unique_postings])));
      const [now, before] = await Promise.all([counts(em.start, em.end), counts(em.previous_start, em.previous_end)]);
      keys.forEach((k) => {
        growth[k] = before[k] ? ((now[k] || 0) / em.n_current) / (before[k] / em.n_previous) - 1 : null;
      });
    }
    return { top, growth };
  }

  // ---------------------------------------------------------------- the charts
  function refresh() {
    state.generation += 1;
    const filter = currentFilter();

    API.totals(filter).then((tot) => {
      document.getElementById("kpi-unique").textContent = tot.unique_postings;
      document.getElementById("kpi-total").textContent = tot.total_postings;
      document.getElementById("kpi-intensity").textContent = tot.posting_intensity.toFixed(2);
      document.getElementById("kpi-salary").textContent = tot.median_salary ? Math.round(tot.median_salary) : "–";
    }).catch(() => { /* the charts show the error */ });

    render("chart-occupations", () => API.rankingSeries("occupations", filter, { limit: 8 }),
      (data) => seriesChart("chart-occupations", data, (s) => occupationName(s.key), false));

    render("chart-levels", () => API.rankingSeries("levels", filter, { keys: ["初级", "中级", "高级"] }),
      (data) => seriesChart("chart-levels", data, (s) => t(s.key), true));

    render("chart-provinces", () => API.ranking("provinces", filter, { limit: 15 }), (data) => {
      const labels = data.buckets.map((b) => b.name || b.key);
      barChart("chart-provinces", labels, data.buckets.map((b) => b.unique_postings));
      return { columns: ["province", "unique_postings"], rows: data.buckets.map((b) => [b.key, b.unique_postings]) };
    });

    const topSkills = API.ranking("skills", filter, { limit: 15 });
    render("chart-skills", () => topSkillsWithGrowth(filter, topSkills), ({ top, growth }) => {
      const labels = top.buckets.map((b) => b.name || b.key);
      const pct = (g) => (g === undefined || g === null ? "" : ` (${g >= 0 ? "+" : ""}${(g * 100).toFixed(0)}%)`);
      const byIndex = (i) => top.buckets[top.buckets.length - 1 - i];  // bars are drawn bottom-up
      barChart("chart-skills", labels, top.buckets.map((b) => b.unique_postings), {
        tooltip: {
          trigger: "axis",
          formatter: (items) => {
            const b = byIndex(items[0].dataIndex);
            return `${b.name || b.key}<br>${t("postings")}: ${b.unique_postings}` +
              (growth[b.key] === undefined || growth[b.key] === null ? "" : `<br>${t("growth")}:${pct(growth[b.key])}`);
          },
        },
        series: [{
          type: "bar", data: top.buckets.map((b) => b.unique_postings).reverse(),
          label: { show: true, position: "right", formatter: (x) => `${x.value}${pct(growth[byIndex(x.dataIndex).key])}` },
        }],
      });
      return {
        columns: ["skill", "name", "unique_postings", "growth"],
        rows: top.buckets.map((b) => [b.key, b.name || b.key, b.unique_postings, growth[b.key] ?? ""]),
      };
    });

    render("chart-emerging", () => API.emerging(filter), (em) => {
      // change of the share of postings, in percentage points: finite for skills new in the window
      // (whose relative growth is undefined), and what the significance test is about; the bars
      // are sorted by it, and those not significant after the FDR control (within noise) are grey
      const change = (s) => Math.round((s.share_current - s.share_previous) * 1000) / 10;
      const items = (em.skills || []).slice().sort((a, b) => change(b) - change(a) || (a.skill_id < b.skill_id ? -1 : 1));
      const labels = items.map((s) => s.name || s.skill_id);
      const byIndex = (i) => items[items.length - 1 - i];  // bars are drawn bottom-up
      const color = (s) => (s.significant ? EMERGING_COLOR : NOISE_COLOR);
      barChart("chart-emerging", labels, items.map(change), {
        grid: { left: 100, right: 40, top: 10, bottom: 44 },
        xAxis: { type: "value", name: t("share_change"), nameLocation: "middle", nameGap: 26 },
        tooltip: {
          trigger: "axis",
          formatter: (points) => {
            const s = byIndex(points[0].dataIndex);
            return `${s.name || s.skill_id}<br>${t("share_change")}: ${change(s)}<br>` +
              `${s.previous} → ${s.current}<br>${s.significant ? t("significant") : t("within_noise")}` +
              ` (${t("p_adjusted")} ${s.p_adjusted.toPrecision(2)}, ${em.fdr.method}, q=${em.fdr.q})`;
          },
        },
        series: [{
          type: "bar", label: { show: true, position: "right" },
          data: items.map((s) => ({ value: change(s), itemStyle: { color: color(s) } })).reverse(),
        }],
      });
      return {
        columns: ["skill", "name", "current", "previous", "share_change_pp", "growth", "significant", "p_value", "p_adjusted"],
        rows: items.map((s) => [s.skill_id, s.name, s.current, s.previous, change(s), s.growth, s.significant,
          s.p_value, s.p_adjusted]),
      };
    });

    renderCompetencies(filter);
    if (state.compareEdited) renderCompare();
    else followTopSkills(topSkills);
    if (state.view === "catalogue") renderCatalogue();
  }

  // ---------------------------------------------------------------- the catalogue tab
  function showView(view, draw = true) {
    state.view = view;
    document.querySelectorAll("#tabs [role=tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === view)));
    document.getElementById("view-overview").hidden = view !== "overview";
    document.getElementById("view-catalogue").hidden = view !== "catalogue";
    window.history.replaceState(null, "", window.location.pathname + window.location.search + (view === "catalogue" ? "#catalogue" : ""));
    if (!draw) return;
    if (view === "catalogue") renderCatalogue();
    else Object.values(state.charts).forEach((c) => c.resize());  // drawn while hidden
  }

  async function defaultPeriod() {
    if (!state.defaultPeriod) {
      const months = ((await API.monthly()).points || []).filter((p) => p.unique_postings > 0);
      const last = months.length ? months[months.length - 1].period : new Date().toISOString();
      const [y, m] = last.slice(0, 7).split("-").map(Number);
      state.defaultPeriod = `${y}Q${Math.floor((m - 1) / 3) + 1}`;
    }
    return state.defaultPeriod;
  }

  // The catalogue of the period typed (default: the latest quarter with postings) for the region and
  // province of the filter bar: one row per entry, tightest first, the rating coloured.
  async function renderCatalogue() {
    const id = "table-catalogue";
    const box = document.getElementById(id);
    const generation = ++state.catalogueGeneration;
    const input = document.getElementById("cat-period");
    setState(id, "loading");
    try {
      if (!input.value.trim()) input.value = await defaultPeriod();
      const f = currentFilter();
      const params = { period: input.value.trim(), region: (f.regions || [])[0], province: (f.provinces || [])[0] };
      const cat = await API.catalogue(params);
      if (generation !== state.catalogueGeneration) return;
      drawCatalogue(cat, params);
      setState(id, cat.entries.length ? null : "empty");
    } catch (err) {
      if (generation !== state.catalogueGeneration) return;
      box.replaceChildren();
      state.shown[id] = { columns: [], rows: [] };
      setState(id, "error", err.message);
    }
  }

  function drawCatalogue(cat, params) {
    const pct = (x) => (x === null || x === undefined ? "–" : `${x >= 0 ? "+" : ""}${Math.round(x * 100)}%`);
    const num = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString());
    const place = (ind) => [ind.region ? t(ind.region) : "", ind.province || ""].filter(Boolean).join(" ") || t("national");
    const named = (items) => items.map((i) => i.name || i.id).join("、");
    document.getElementById("cat-title").textContent =
      `${cat.period} · ${place({ region: cat.region, province: cat.province })}`;
    document.getElementById("cat-measure").textContent = t(`measure_${cat.measure}`);
    document.getElementById("cat-thresholds").textContent = `${t("thresholds")}: ` +
      t("min_sample_rule").replace("{n}", cat.thresholds.min_sample) +
      (cat.thresholds.description ? ` · ${cat.thresholds.description}` : "");
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    ["xlsx", "html", "md"].forEach((fmt) => {
      query.set("format", fmt);
      document.getElementById(`cat-${fmt}`).href = `/v1/catalogue?${query}`;
    });
    const columns = ["col_occupation", "col_level", "col_region", "col_rating", "col_postings", "col_growth_previous",
      "col_growth_year", "col_salary", "col_days_open", "col_skills", "col_majors"];
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    columns.forEach((k) => { const th = document.createElement("th"); th.textContent = t(k); head.appendChild(th); });
    const body = table.createTBody();
    cat.entries.forEach((e) => {
      const ind = e.indicators;
      const tr = body.insertRow();
      Object.assign(tr.dataset, { occupation: ind.occupation || "", level: ind.level || "", rating: e.rating.label });
      const cell = (text, cls) => { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; };
      cell(`${ind.occupation_name || occupationName(ind.occupation)} (${ind.occupation})`);
      cell(ind.level ? t(ind.level) : t("all"));
      cell(place(ind));
      const badge = document.createElement("span");
      badge.className = `rating rating-${e.rating.label}`;
      badge.textContent = t(e.rating.label) + (e.rating.stars ? ` ${"★".repeat(e.rating.stars)}` : "");
      badge.title = e.rating.reasons.join("\n");
      cell("").appendChild(badge);
      cell(num(ind.unique_postings), "num");
      cell(pct(ind.growth_previous), "num");
      cell(pct(ind.growth_year), "num");
      cell(num(ind.median_salary), "num");
      cell(num(ind.duration_median_days), "num");
      cell(named(e.top_skills));
      cell(e.related_majors.join("、"));
    });
    document.getElementById("table-catalogue").replaceChildren(table);
    state.shown["table-catalogue"] = {
      columns: ["occupation", "level", "region", "province", "rating", "stars", "unique_postings", "growth_previous",
        "growth_year", "median_salary", "duration_median_days"],
      rows: cat.entries.map((e) => [e.indicators.occupation, e.indicators.level, e.indicators.region, e.indicators.province,
        e.rating.label, e.rating.stars, e.indicators.unique_postings, e.indicators.growth_previous,
        e.indicators.growth_year, e.indicators.median_salary, e.indicators.duration_median_days]),
    };
  }

  // Until the user picks or removes a skill, the comparison shows the current filter's top skills.
  function followTopSkills(topSkills) {
    const generation = state.generation;
    setState("chart-compare", "loading");
    topSkills.then((top) => {
      if (generation !== state.generation || state.compareEdited) return;
      state.compare = top.buckets.slice(0, COMPARE_START).map((b) => ({ id: b.key, name: b.name || b.key }));
      drawChips();
      renderCompare();
    }).catch((err) => {
      if (generation !== state.generation) return;
      setState("chart-compare", "error", err.message);
    });
  }

  // The competency statements of the selected occupation's standard its postings ask for most:
  // a table (statements are sentences), with level, occupational function, postings and share.
  function renderCompetencies(filter) {
    const id = "table-competencies";
    const box = document.getElementById(id);
    const generation = state.generation;
    state.shown[id] = { columns: [], rows: [] };
    if (!filter.occupations) {
      box.replaceChildren();
      setState(id, "empty", t("competency_hint"));
      return;
    }
    setState(id, "loading");
    API.competencies(filter).then((data) => {
      if (generation !== state.generation) return;
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      ["col_competency", "col_level", "col_function", "col_postings", "col_share"].forEach((k) => {
        const th = document.createElement("th");
        th.textContent = t(k);
        head.appendChild(th);
      });
      const body = table.createTBody();
      const top = Math.max(1, ...data.buckets.map((b) => b.unique_postings));
      data.buckets.forEach((b) => {
        const tr = body.insertRow();
        tr.dataset.competency = b.key;
        const cell = (text, cls) => { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; };
        cell(b.text || b.key);
        cell(t(b.level || ""));
        cell(b.function || "");
        const n = cell("", "num");
        const bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = `${Math.round((60 * b.unique_postings) / top)}px`;
        n.append(bar, String(b.unique_postings));
        cell(`${(b.share * 100).toFixed(1)}%`, "num");
      });
      box.replaceChildren(table);
      state.shown[id] = {
        columns: ["competency", "text", "level", "function", "unique_postings", "share"],
        rows: data.buckets.map((b) => [b.key, b.text, b.level, b.function, b.unique_postings, b.share]),
      };
      setState(id, data.buckets.length ? null : "empty");
    }).catch((err) => {
      if (generation !== state.generation) return;
      box.replaceChildren();
      setState(id, "error", err.message);
    });
  }

  function renderCompare() {
    const id = "chart-compare";
    if (!state.compare.length) {
      chart(id).clear();
      state.shown[id] = { columns: [], rows: [] };
      setState(id, "empty", t("compare_hint"));
      return;
    }
    const filter = currentFilter();
    render(id, () => API.rankingSeries("skills", filter, { keys: state.compare.map((s) => s.id) }),
      (data) => seriesChart(id, data, (s) => (state.compare.find((c) => c.id === s.key) || {}).name || s.key, false));
  }

  // ---------------------------------------------------------------- skill compare box
  function drawChips() {
    const box = document.getElementById("skill-chips");
    box.innerHTML = "";
    state.compare.forEach((s) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.dataset.skill = s.id;
      chip.textContent = s.name;
      const x = document.createElement("button");
      x.type = "button"; x.textContent = "×";
      x.onclick = () => {
        state.compare = state.compare.filter((c) => c.id !== s.id);
        state.compareEdited = true;
        drawChips(); renderCompare();
      };
      chip.appendChild(x);
      box.appendChild(chip);
    });
  }

  let searchTimer = null;
  function onSkillInput(ev) {
    clearTimeout(searchTimer);
    const q = ev.target.value.trim();
    const list = document.getElementById("skill-suggestions");
    if (!q) { list.innerHTML = ""; return; }
    searchTimer = setTimeout(async () => {
      try {
        const found = await API.searchSkills(q);
        list.innerHTML = "";
        const hits = found.results || found.skills || found;
        if (!hits.length) { list.innerHTML = `<li class="none">${t("no_match")}</li>`; return; }
        hits.forEach((s) => {
          const li = document.createElement("li");
          const name = state.lang === "zh" ? s.name_zh || s.name : s.name_en || s.name;
          li.textContent = `${name}${s.matched && s.matched !== name ? ` (${s.matched})` : ""}`;
          li.dataset.skill = s.id;
          li.onclick = () => {
            if (!state.compare.some((c) => c.id === s.id)) state.compare.push({ id: s.id, name });
            state.compareEdited = true;
            list.innerHTML = ""; ev.target.value = "";
            drawChips(); renderCompare();
          };
          list.appendChild(li);
        });
      } catch (err) {
        list.innerHTML = `<li class="none">${t("error")}${err.message}</li>`;
      }
    }, 200);
  }

  // ---------------------------------------------------------------- CSV download
  function downloadCsv() {
    const quote = (v) => {
      const s = v === null || v === undefined ? "" : String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const lines = ["chart,column,values"];
    const out = [];
    Object.entries(state.shown).forEach(([id, table]) => {
      if (!table.rows.length) return;
      out.push(["chart", ...table.columns].map(quote).join(","));
      table.rows.forEach((r) => out.push([id, ...r].map(quote).join(",")));
    });
    const blob = new Blob(["\ufeff" + (out.length ? out : lines).join("\n") + "\n"], { type: "text/csv;charset=utf-8" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "skillsignal-dashboard.csv";
    document.body.appendChild(a); a.click(); a.remove();
  }
  window.skillsignalDashboard = { state, refresh, currentFilter, showView };

  // ---------------------------------------------------------------- language
  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.getElementById("lang-switch").textContent = t("switch_to");
    fillOccupations();
  }

  // ---------------------------------------------------------------- start
  async function start() {
    if (typeof echarts === "undefined") {
      document.querySelectorAll(".chart").forEach((el) =>
        setState(el.id, "error", "ECharts is not installed: run scripts/setup.sh (it installs it from npm)"));
      return;
    }
    document.getElementById("lang-switch").onclick = () => {
      state.lang = state.lang === "zh" ? "en" : "zh";
      localStorage.setItem("skillsignal.lang", state.lang);
      applyLanguage(); refresh();
    };
    document.getElementById("download-csv").onclick = downloadCsv;
    document.querySelectorAll("#tabs [role=tab]").forEach((b) => { b.onclick = () => showView(b.dataset.view); });
    document.getElementById("cat-period").addEventListener("change", () => renderCatalogue());
    document.getElementById("skill-query").addEventListener("input", onSkillInput);
    document.getElementById("filters").addEventListener("change", (ev) => {
      if (ev.target.id === "f-occupation") fillDirections();
      refresh();
    });
    window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
    try {
      const occ = await API.occupations();
      state.occupations = occ.occupations || occ;
    } catch (err) { state.occupations = []; }
    applyLanguage();
    fillProvinces().catch(() => {});
    showView(state.view, false);
    refresh();  // draws the catalogue too when its tab is open
  }
  document.addEventListener("DOMContentLoaded", start);
})();
