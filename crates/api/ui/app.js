/* binlog-analyzer web UI: plain JavaScript, no build step. Talks to the
 * REST API under /api and the live stream at /api/stream (server-sent
 * events). Every value from the database is put into the page as text
 * (never as HTML). */
(function () {
  "use strict";

  // Script errors are kept where tests (and a curious DBA's console) can
  // read them.
  window.__errors = [];
  window.addEventListener("error", (e) => window.__errors.push(String(e.message)));
  window.addEventListener("unhandledrejection", (e) => window.__errors.push(String(e.reason)));

  // ---------------------------------------------------------------------
  // Small helpers

  const $ = (id) => document.getElementById(id);

  /** el("td", {class: "x", onclick: f}, "text", childNode, ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else if (k === "dataset") Object.assign(node.dataset, v);
        else node.setAttribute(k, v === true ? "" : v);
      }
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  /** A JSON number whose digits a double cannot hold (BIGINT UNSIGNED
   * beyond 2^53, long fractions): kept as its source text for display, and
   * still usable as an (approximate) number in arithmetic. */
  class Num {
    constructor(src) { this.src = src; }
    toString() { return this.src; }
    valueOf() { return Number(this.src); }
    toFixed(d) { return Number(this.src).toFixed(d); }
  }

  /** Whether the literal `src` lost digits when read as the double `v`
   * (`0.0` and `2.50` did not: only their spelling differs). */
  function lostDigits(v, src) {
    if (/[eE]/.test(src)) return false;
    let norm = src;
    if (norm.includes(".")) norm = norm.replace(/0+$/, "").replace(/\.$/, "");
    if (norm === "-0") norm = "0";
    return norm !== String(v);
  }

  /** JSON.parse that keeps the exact text of numbers a double would
   * round, where the engine gives the source text (Chromium does). */
  function parseJSON(text) {
    return JSON.parse(text, function (key, value, ctx) {
      if (typeof value === "number" && ctx && typeof ctx.source === "string" && lostDigits(value, ctx.source)) {
        return new Num(ctx.source);
      }
      return value;
    });
  }

  /** Compact JSON text, with exact numbers. */
  function stringify(v) {
    if (v instanceof Num) return v.src;
    if (v === null || v === undefined) return "null";
    if (Array.isArray(v)) return "[" + v.map(stringify).join(",") + "]";
    if (typeof v === "object") {
      return "{" + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ":" + stringify(x)).join(",") + "}";
    }
    return JSON.stringify(v);
  }

  function isBase64Value(v) {
    return v && typeof v === "object" && !(v instanceof Num) && !Array.isArray(v) &&
      Object.keys(v).length === 1 && typeof v.base64 === "string";
  }

  function base64ToHex(b64, maxBytes) {
    let bin;
    try { bin = atob(b64); } catch (e) { return null; }
    let out = "";
    const n = Math.min(bin.length, maxBytes);
    for (let i = 0; i < n; i++) out += bin.charCodeAt(i).toString(16).padStart(2, "0");
    return { hex: out, truncated: bin.length > maxBytes, length: bin.length };
  }

  /** Text of a value as a DBA reads it: NULL, numbers exact, bytes as hex. */
  function valueText(v) {
    if (v === undefined) return "—";
    if (v === null) return "NULL";
    if (v instanceof Num) return v.src;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (isBase64Value(v)) {
      const h = base64ToHex(v.base64, 64);
      if (!h) return "base64:" + v.base64;
      return "0x" + h.hex.toUpperCase() + (h.truncated ? "… (" + h.length + " bytes)" : "");
    }
    return stringify(v);
  }

  function valueNode(v) {
    let cls = "v";
    if (v === undefined) cls += " absent";
    else if (v === null) cls += " null";
    else if (isBase64Value(v)) cls += " bin";
    return el("span", { class: cls, title: v === undefined ? "not in this row image" : null }, valueText(v));
  }

  function sameValue(a, b) {
    return stringify(a) === stringify(b);
  }

  const nf = new Intl.NumberFormat("en-US");
  function plural(n, word) {
    return n ? fmtInt(n) + " " + word + (n === 1 ? "" : "s") : "";
  }
  function fmtInt(n) {
    if (n === null || n === undefined) return "–";
    if (n instanceof Num) return n.src;
    return nf.format(n);
  }

  function fmtRate(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    if (x >= 100) return nf.format(Math.round(x));
    if (x >= 10) return x.toFixed(1);
    return x.toFixed(2);
  }

  function fmtDuration(secs) {
    if (secs === null || secs === undefined) return "–";
    secs = Number(secs);
    if (secs < 1) return secs === 0 ? "0 s" : secs.toFixed(2) + " s";
    if (secs < 120) return Math.round(secs) + " s";
    if (secs < 7200) return Math.floor(secs / 60) + " min " + Math.round(secs % 60) + " s";
    if (secs < 172800) return Math.floor(secs / 3600) + " h " + Math.floor((secs % 3600) / 60) + " min";
    return Math.floor(secs / 86400) + " d " + Math.floor((secs % 86400) / 3600) + " h";
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    n = Number(n);
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  // Times: the API speaks UTC ISO-8601; shown in UTC (default) or local.
  const pad = (n) => String(n).padStart(2, "0");
  function fmtDate(d) {
    if (state.tz === "utc") {
      return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
        pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function fmtTime(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : fmtDate(d);
  }
  function timeCell(iso) {
    return el("td", { class: "time", title: iso }, fmtTime(iso));
  }

  /** The primary key as the history route takes it (pipeline's
   * primary_key_text): values in key order joined with ",", with "," and
   * "\" escaped by "\"; NULL for SQL NULL. */
  function pkText(pk) {
    return Object.values(pk || {}).map((v) => {
      const t = v === null ? "NULL" : typeof v === "string" ? v : stringify(v);
      return t.replace(/[\\,]/g, (c) => "\\" + c);
    }).join(",");
  }

  function pkLabel(pk) {
    const entries = Object.entries(pk || {});
    if (entries.length === 0) return "(no key)";
    return entries.map(([k, v]) => k + "=" + valueText(v)).join(", ");
  }

  function historyHref(db, table, pk) {
    return "#/history/" + encodeURIComponent(db) + "/" + encodeURIComponent(table) + "/" + encodeURIComponent(pkText(pk));
  }
  function tableHref(db, table) {
    return "#/tables/" + encodeURIComponent(db) + "/" + encodeURIComponent(table);
  }

  function opBadge(op) {
    return el("span", { class: "op " + op }, op);
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // ---------------------------------------------------------------------
  // State and API access

  const state = {
    token: sessionStorage.getItem("binlog-analyzer.token") || "",
    tz: localStorage.getItem("binlog-analyzer.tz") || "utc",
    theme: localStorage.getItem("binlog-analyzer.theme") || "system",
    tables: [],
    page: null,
    unseenAlerts: 0,
  };

  class ApiError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }

  let tokenPrompt = null;
  function askToken() {
    if (tokenPrompt) return tokenPrompt;
    const dialog = $("token-dialog");
    tokenPrompt = new Promise((resolve) => {
      const form = $("token-form");
      const done = (ev) => {
        ev.preventDefault();
        state.token = $("token-input").value.trim();
        sessionStorage.setItem("binlog-analyzer.token", state.token);
        dialog.close();
        form.removeEventListener("submit", done);
        tokenPrompt = null;
        resolve();
        live.reconnect();
      };
      form.addEventListener("submit", done);
      if (!dialog.open) dialog.showModal();
    });
    return tokenPrompt;
  }

  function apiUrl(path, params) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      if (v === undefined || v === null || v === "") continue;
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else url.searchParams.set(k, v);
    }
    return url;
  }

  async function api(path, params) {
    const url = apiUrl(path, params);
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const r = await fetch(url, { headers });
    if (r.status === 401) {
      await askToken();
      return api(path, params);
    }
    const text = await r.text();
    let body = null;
    if (text) {
      try { body = parseJSON(text); } catch (e) { body = { error: text.slice(0, 200) }; }
    }
    if (!r.ok) throw new ApiError((body && body.error) || r.status + " " + r.statusText, r.status);
    return { body, headers: r.headers };
  }

  function errorBox(err) {
    return el("div", { class: "error-box" }, err && err.message ? err.message : String(err));
  }

  function toast(title, text, kind) {
    const area = $("toasts");
    const t = el("div", { class: "toast" + (kind ? " " + kind : "") }, el("b", null, title), text);
    area.prepend(t);
    while (area.children.length > 4) area.lastChild.remove();
    setTimeout(() => t.remove(), 8000);
  }

  async function loadTables() {
    try {
      const { body } = await api("/api/tables");
      state.tables = body || [];
    } catch (e) {
      state.tables = [];
    }
    return state.tables;
  }

  function knownTable(db, table) {
    if (!state.tables.some((t) => t.database === db && t.table === table)) {
      state.tables.push({ database: db, table: table, name: db + "." + table });
      state.tables.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      return true;
    }
    return false;
  }

  function databases() {
    return [...new Set(state.tables.map((t) => t.database))].sort();
  }

  function fillSelect(select, values, keep, allLabel) {
    const current = keep !== undefined ? keep : select.value;
    clear(select);
    if (allLabel !== undefined) select.append(el("option", { value: "" }, allLabel));
    for (const v of values) select.append(el("option", { value: v }, v));
    if ([...select.options].some((o) => o.value === current)) select.value = current;
  }

  // ---------------------------------------------------------------------
  // Charts (uPlot)

  const charts = {};
  window.__charts = charts; // for tests and the curious

  function chartColors() {
    return {
      insert: cssVar("--insert"), update: cssVar("--update"), del: cssVar("--delete"),
      accent: cssVar("--accent"), muted: cssVar("--muted"), border: cssVar("--border"), text: cssVar("--text"),
    };
  }

  function axis(c, extra) {
    return Object.assign({
      stroke: c.muted,
      grid: { stroke: c.border, width: 1 },
      ticks: { stroke: c.border, width: 1 },
      font: "11px " + cssVar("--sans").split(",")[0],
    }, extra || {});
  }

  function withAlpha(color, alpha) {
    const m = /^#([0-9a-f]{6})$/i.exec(color);
    if (!m) return color;
    const n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  /** (Re)draws a chart in `container`; `build(colors)` gives uPlot opts. */
  function drawChart(name, container, build, data) {
    if (charts[name]) { charts[name].destroy(); delete charts[name]; }
    clear(container);
    if (typeof uPlot === "undefined") {
      container.append(el("div", { class: "chart-empty" }, "Chart library did not load."));
      return null;
    }
    const width = Math.max(container.clientWidth - 16, 280);
    const opts = Object.assign({ width, height: 230 }, build(chartColors()));
    const chart = new uPlot(opts, data, container);
    charts[name] = chart;
    return chart;
  }

  const resizer = new ResizeObserver((entries) => {
    for (const e of entries) {
      for (const chart of Object.values(charts)) {
        if (chart.root.parentNode === e.target) {
          chart.setSize({ width: Math.max(e.target.clientWidth - 16, 280), height: 230 });
        }
      }
    }
  });
  document.querySelectorAll(".chart").forEach((c) => resizer.observe(c));

  function timeAxisValues(u, splits) {
    const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    return splits.map((s) => {
      const d = new Date(s * 1000);
      const utc = state.tz === "utc";
      const hh = pad(utc ? d.getUTCHours() : d.getHours()), mm = pad(utc ? d.getUTCMinutes() : d.getMinutes());
      const mo = pad((utc ? d.getUTCMonth() : d.getMonth()) + 1), dd = pad(utc ? d.getUTCDate() : d.getDate());
      if (span > 3 * 86400) return mo + "-" + dd;
      if (span > 86400) return mo + "-" + dd + " " + hh + ":" + mm;
      if (span < 600) return hh + ":" + mm + ":" + pad(utc ? d.getUTCSeconds() : d.getSeconds());
      return hh + ":" + mm;
    });
  }

  function timeScale() {
    return { time: true };
  }

  // uPlot shows local time unless told otherwise.
  function tzDate(ts) {
    return state.tz === "utc" ? uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") : new Date(ts * 1000);
  }

  // ---------------------------------------------------------------------
  // Header: status summary, theme, time zone

  function applyTheme() {
    const root = document.documentElement;
    if (state.theme === "system") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", state.theme);
    $("theme-toggle").title = "Theme: " + state.theme + " (click to change)";
  }

  $("theme-toggle").addEventListener("click", () => {
    state.theme = { system: "light", light: "dark", dark: "system" }[state.theme] || "system";
    localStorage.setItem("binlog-analyzer.theme", state.theme);
    applyTheme();
    rerender();
  });

  $("tz-toggle").addEventListener("click", () => {
    state.tz = state.tz === "utc" ? "local" : "utc";
    localStorage.setItem("binlog-analyzer.tz", state.tz);
    $("tz-toggle").textContent = state.tz === "utc" ? "UTC" : "Local";
    rerender();
  });

  /** Redraw the current page (theme or time zone changed). */
  function rerender() {
    const p = pages[state.page];
    if (p && p.rerender) p.rerender();
  }

  // ---------------------------------------------------------------------
  // Status polling (header and the Status page)

  const statusHistory = { t: [], eps: [], rps: [], lag: [] };
  let lastStatus = null;

  function stateClass(s) {
    if (!s) return "";
    if (s.last_error || s.state === "error") return "bad";
    if (s.state === "reconnecting" || s.state === "starting" || (s.lag_seconds || 0) > 60) return "warn";
    if (s.state === "idle" || s.state === "stopped") return "";
    return "ok";
  }

  async function pollStatus() {
    try {
      const { body } = await api("/api/status");
      lastStatus = body;
      const now = Date.now() / 1000;
      statusHistory.t.push(now);
      statusHistory.eps.push(body.events_per_second || 0);
      statusHistory.rps.push(body.rows_per_second || 0);
      statusHistory.lag.push(body.lag_seconds === null || body.lag_seconds === undefined ? null : body.lag_seconds);
      for (const k of Object.keys(statusHistory)) {
        if (statusHistory[k].length > 450) statusHistory[k].shift();
      }
      $("top-dot").className = "dot " + stateClass(body);
      $("top-state").textContent = body.state + (body.mode === "serve" ? " (serve)" : "");
      $("top-lag").textContent = body.lag_seconds === null || body.lag_seconds === undefined ? "–" : fmtDuration(body.lag_seconds);
      $("top-eps").textContent = fmtRate(body.events_per_second);
      if (state.page === "status") pages.status.render();
    } catch (e) {
      $("top-dot").className = "dot bad";
      $("top-state").textContent = "unreachable";
    }
  }

  // ---------------------------------------------------------------------
  // Live stream

  const LIVE_MAX_ROWS = 500;

  function changeSummary(c, limit) {
    const parts = [];
    const changes = c.changes || {};
    const cols = Object.keys(changes);
    for (const col of cols.slice(0, limit)) {
      const pair = changes[col] || {};
      if (c.operation === "UPDATE") {
        parts.push(el("span", { class: "chg" },
          el("span", { class: "col" }, col + ":"),
          el("span", { class: "old v" }, valueText(pair.old)),
          el("span", { class: "arrow" }, "→"),
          el("span", { class: "new v" }, valueText(pair.new))));
      } else {
        const v = c.operation === "DELETE" ? pair.old : pair.new;
        parts.push(el("span", { class: "chg" },
          el("span", { class: "col" }, col + "="),
          el("span", { class: "v" }, valueText(v))));
      }
    }
    if (cols.length > limit) parts.push(el("span", { class: "more" }, "+" + (cols.length - limit) + " more"));
    if (cols.length === 0) parts.push(el("span", { class: "more" }, "no tracked column changed"));
    return parts;
  }

  /** Before/after of every column, changed ones highlighted. */
  function diffTable(before, after, operation) {
    const cols = [];
    for (const k of Object.keys(before || {})) if (!cols.includes(k)) cols.push(k);
    for (const k of Object.keys(after || {})) if (!cols.includes(k)) cols.push(k);
    const tbody = el("tbody");
    for (const col of cols) {
      const b = before ? before[col] : undefined;
      const a = after ? after[col] : undefined;
      const changed = operation === "UPDATE" ? (b === undefined || a === undefined ? a !== b && a !== undefined : !sameValue(a, b)) : true;
      tbody.append(el("tr", { class: changed ? "changed" : null },
        el("td", { class: "colname" }, col),
        el("td", { class: "before" + (changed && before ? " changed" : "") }, before ? valueNode(b) : ""),
        el("td", { class: "after" + (changed && after ? " changed" : "") }, after ? valueNode(a) : "")));
    }
    return el("table", { class: "diff" },
      el("thead", null, el("tr", null, el("th", null, "Column"), el("th", null, "Before"), el("th", null, "After"))),
      tbody);
  }

  function changeDetail(c) {
    const box = el("div");
    box.append(diffTable(c.old_data, c.new_data, c.operation));
    const meta = [];
    if (c.gtid) meta.push(el("span", null, "GTID ", el("code", null, c.gtid)));
    if (c.tags && c.tags.length) meta.push(el("span", null, "tags ", el("code", null, c.tags.join(", "))));
    if (c.query) meta.push(el("span", null, "statement ", el("code", null, c.query)));
    meta.push(el("a", { href: historyHref(c.database, c.table, c.primary_key) }, "Row history →"));
    box.append(el("p", { class: "muted" }, ...meta.flatMap((m, i) => (i ? [" · ", m] : [m]))));
    return box;
  }

  function changeRow(c, opts) {
    const tr = el("tr", { class: "clickable" + (opts && opts.fresh ? " fresh" : ""), dataset: { id: c.id, op: c.operation } },
      timeCell(c.timestamp),
      el("td", null, opBadge(c.operation)),
      opts && opts.noTable ? null : el("td", { class: "tbl" }, el("a", { href: tableHref(c.database, c.table) }, c.database + "." + c.table)),
      el("td", { class: "pk" }, el("a", { href: historyHref(c.database, c.table, c.primary_key) }, pkLabel(c.primary_key))),
      el("td", { class: "changes" }, changeSummary(c, 4)),
      opts && opts.noId ? null : el("td", { class: "id" }, c.id));
    tr.addEventListener("click", (ev) => {
      if (ev.target.closest("a")) return;
      const next = tr.nextElementSibling;
      if (next && next.classList.contains("detail-row")) { next.remove(); return; }
      tr.after(el("tr", { class: "detail-row" }, el("td", { colspan: tr.children.length }, changeDetail(c))));
    });
    return tr;
  }

  const live = {
    source: null,
    paused: false,
    buffered: [],
    count: 0,
    url() {
      const db = $("live-db").value, table = $("live-table").value;
      const ops = [...$("live-ops").querySelectorAll("input:checked")].map((i) => i.value);
      const params = { database: db, table: table };
      if (ops.length < 3) params.operation = ops.join(",");
      if (state.token) params.access_token = state.token;
      return { url: apiUrl("/api/stream", params), none: ops.length === 0 };
    },
    connect() {
      if (this.source) { this.source.close(); this.source = null; }
      const { url, none } = this.url();
      const conn = $("live-conn");
      if (none) { conn.dataset.state = "paused"; conn.textContent = "no operation selected"; return; }
      conn.dataset.state = "connecting";
      conn.textContent = "connecting…";
      const es = new EventSource(url);
      this.source = es;
      es.addEventListener("open", () => {
        conn.dataset.state = this.paused ? "paused" : "open";
        conn.textContent = this.paused ? "paused" : "live";
      });
      es.addEventListener("error", () => {
        if (es.readyState === EventSource.CLOSED) {
          conn.dataset.state = "error";
          conn.textContent = "disconnected";
          // The browser gives up on HTTP errors (401, 5xx): try again later.
          setTimeout(() => { if (this.source === es) this.connect(); }, 3000);
        } else {
          conn.dataset.state = "error";
          conn.textContent = "reconnecting…";
        }
      });
      es.addEventListener("change", (ev) => this.onChange(parseJSON(ev.data)));
      es.addEventListener("alert", (ev) => onLiveAlert(parseJSON(ev.data)));
      es.addEventListener("lagged", (ev) => {
        const d = parseJSON(ev.data);
        this.insertNote("Skipped " + fmtInt(d.skipped) + " changes: this page fell behind the stream.");
      });
    },
    reconnect() { if (this.source || state.page === "live") this.connect(); },
    onChange(c) {
      if (knownTable(c.database, c.table)) refreshLiveSelects();
      if (this.paused) {
        this.buffered.push(c);
        if (this.buffered.length > LIVE_MAX_ROWS) this.buffered.shift();
        $("live-pause").textContent = "Resume (" + this.buffered.length + " new)";
        return;
      }
      this.insert(c, true);
    },
    insert(c, fresh) {
      const tbody = $("live-rows");
      tbody.prepend(changeRow(c, { fresh }));
      this.count++;
      while (tbody.children.length > LIVE_MAX_ROWS) tbody.lastChild.remove();
      $("live-empty").hidden = true;
      $("live-count").textContent = fmtInt(this.count) + (this.count === 1 ? " change" : " changes");
    },
    insertNote(text) {
      $("live-rows").prepend(el("tr", null, el("td", { colspan: 6, class: "muted" }, text)));
    },
  };

  function refreshLiveSelects() {
    const db = $("live-db").value;
    fillSelect($("live-db"), databases(), db, "all");
    const tables = state.tables.filter((t) => !$("live-db").value || t.database === $("live-db").value).map((t) => t.table);
    fillSelect($("live-table"), [...new Set(tables)].sort(), undefined, "all");
  }

  $("live-db").addEventListener("change", () => { refreshLiveSelects(); live.connect(); });
  $("live-table").addEventListener("change", () => live.connect());
  $("live-ops").addEventListener("change", () => live.connect());
  $("live-pause").addEventListener("click", () => {
    live.paused = !live.paused;
    const conn = $("live-conn");
    if (live.paused) {
      $("live-pause").textContent = "Resume";
      $("live-pause").classList.add("active");
      conn.dataset.state = "paused";
      conn.textContent = "paused";
    } else {
      for (const c of live.buffered) live.insert(c, true);
      live.buffered = [];
      $("live-pause").textContent = "Pause";
      $("live-pause").classList.remove("active");
      conn.dataset.state = "open";
      conn.textContent = "live";
    }
  });
  $("live-clear").addEventListener("click", () => {
    clear($("live-rows"));
    live.count = 0;
    $("live-count").textContent = "0 changes";
    $("live-empty").hidden = false;
  });

  function onLiveAlert(a) {
    toast("[" + String(a.priority || "").toUpperCase() + "] " + a.name, a.message);
    if (state.page !== "alerts") {
      state.unseenAlerts++;
      const badge = $("alert-badge");
      badge.textContent = String(state.unseenAlerts);
      badge.hidden = false;
    }
    pages.alerts.prepend(a);
    if (state.page === "live" && !live.paused) {
      const row = el("tr", { class: "alert-row" },
        timeCell(a.timestamp),
        el("td", null, el("span", { class: "prio " + a.priority }, a.priority)),
        el("td", { class: "tbl" }, a.database && a.table ? a.database + "." + a.table : a.kind),
        el("td", { colspan: 3 }, el("b", null, a.name + ": "), a.message));
      $("live-rows").prepend(row);
    }
  }

  // ---------------------------------------------------------------------
  // Pages

  const pages = {};

  pages.live = {
    async enter() {
      if (!state.tables.length) await loadTables();
      refreshLiveSelects();
      if (!live.source) live.connect();
    },
  };

  // Bars per range: 60–360 minutes, 24–168 hours, 30–90 days.
  const TREND_BUCKETS = { "1h": "minute", "6h": "minute", "24h": "hour", "7d": "hour", "30d": "day", "90d": "day" };

  /** Stacked bars of INSERT/UPDATE/DELETE per bucket. The series hold
   * running totals (drawn largest first, so each op shows as its own band);
   * the legend and `chart.raw` give the real counts. */
  function drawOpsChart(name, container, xs, ins, upd, del, bucketSecs) {
    const stack2 = ins.map((v, i) => v + upd[i]);
    const stack3 = stack2.map((v, i) => v + del[i]);
    const raw = [ins, upd, del];
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 60], align: 1 }) : undefined;
    const chart = drawChart(name, container, (c) => ({
      tzDate,
      scales: { x: { time: true, range: (u, min, max) => [min, max + bucketSecs] } },
      cursor: { drag: { x: true, y: false } },
      axes: [axis(c, { values: timeAxisValues }), axis(c, { size: 56 })],
      series: [
        { value: (u, v) => (v === null || v === undefined ? "–" : fmtDate(new Date(v * 1000))) },
        { label: "DELETE", stroke: c.del, fill: withAlpha(c.del, 0.75), width: 0, paths: bars, points: { show: false },
          value: (u, v, si, i) => (i === null || i === undefined ? "–" : fmtInt(del[i])) },
        { label: "UPDATE", stroke: c.update, fill: withAlpha(c.update, 0.75), width: 0, paths: bars, points: { show: false },
          value: (u, v, si, i) => (i === null || i === undefined ? "–" : fmtInt(upd[i])) },
        { label: "INSERT", stroke: c.insert, fill: withAlpha(c.insert, 0.75), width: 0, paths: bars, points: { show: false },
          value: (u, v, si, i) => (i === null || i === undefined ? "–" : fmtInt(ins[i])) },
      ],
    }), [xs, stack3, stack2, ins]);
    if (chart) chart.raw = raw;
    return chart;
  }

  function ago(iso) {
    const t = new Date(iso).getTime();
    if (Number.isNaN(t)) return "–";
    const secs = Math.max(0, (Date.now() - t) / 1000);
    if (secs < 5) return "just now";
    if (secs < 60) return Math.round(secs) + " s ago";
    if (secs < 3600) return Math.floor(secs / 60) + " min ago";
    if (secs < 86400) return Math.floor(secs / 3600) + " h " + Math.floor((secs % 3600) / 60) + " min ago";
    return Math.floor(secs / 86400) + " d " + Math.floor((secs % 86400) / 3600) + " h ago";
  }

  // Tables: list, counts, trend and hourly charts, recent changes.
  pages.tables = {
    current: null,
    range: "24h",
    async enter(args, query) {
      await loadTables();
      this.renderList();
      if (query.range) this.range = query.range;
      if (args.length >= 2) {
        this.current = { database: args[0], table: args[1] };
      } else if (!this.current && state.tables.length) {
        // Nothing chosen yet: the first table.
        this.current = { database: state.tables[0].database, table: state.tables[0].table };
      }
      this.renderList();
      if (this.current) await this.load();
    },
    renderList() {
      const list = clear($("table-list"));
      const filter = $("table-filter").value.trim().toLowerCase();
      let lastDb = null;
      for (const t of state.tables) {
        if (filter && !t.name.toLowerCase().includes(filter)) continue;
        if (t.database !== lastDb) {
          list.append(el("li", { class: "group" }, t.database));
          lastDb = t.database;
        }
        const active = this.current && this.current.database === t.database && this.current.table === t.table;
        list.append(el("li", null, el("a", { href: tableHref(t.database, t.table), class: active ? "active" : null }, t.table)));
      }
      if (!state.tables.length) list.append(el("li", { class: "muted" }, "No tables with changes yet."));
    },
    async load() {
      const { database, table } = this.current;
      $("table-none").hidden = true;
      $("table-detail").hidden = false;
      $("table-title").textContent = database + "." + table;
      for (const b of $("table-ranges").querySelectorAll("button")) b.classList.toggle("active", b.dataset.range === this.range);
      const base = "/api/tables/" + encodeURIComponent(database) + "/" + encodeURIComponent(table);
      $("table-api-link").href = apiUrl(base + "/changes", { order: "desc", limit: 50 }).toString();
      const cards = clear($("table-cards"));
      try {
        const [stats, trend, recent] = await Promise.all([
          api(base + "/stats", { time_range: this.range }),
          api(base + "/trend", { time_range: this.range, bucket: TREND_BUCKETS[this.range] }),
          api(base + "/changes", { time_range: this.range, order: "desc", limit: 50 }),
        ]);
        this.data = { stats: stats.body, trend: trend.body, bucket: trend.headers.get("x-bucket"), recent: recent.body };
        this.render();
      } catch (e) {
        cards.append(errorBox(e));
      }
    },
    render() {
      if (!this.data) return;
      const { stats, trend, bucket, recent } = this.data;
      const cards = clear($("table-cards"));
      const total = stats.total_changes || 0;
      const rangeLabel = "last " + this.range;
      cards.append(el("div", { class: "card" },
        el("div", { class: "label" }, "Total changes"),
        el("div", { class: "value", id: "stat-total" }, fmtInt(total)),
        el("div", { class: "sub" }, rangeLabel)));
      for (const [op, cls] of [["INSERT", "insert"], ["UPDATE", "update"], ["DELETE", "delete"]]) {
        const n = (stats.operations && stats.operations[op]) || 0;
        const share = total ? (100 * Number(n)) / Number(total) : 0;
        const bar = el("i");
        bar.style.width = share.toFixed(1) + "%";
        cards.append(el("div", { class: "card " + cls },
          el("div", { class: "label" }, op),
          el("div", { class: "value", id: "stat-" + cls }, fmtInt(n)),
          el("div", { class: "sub" }, share.toFixed(1) + "% of changes"),
          el("div", { class: "share" }, bar)));
      }
      const hourly = stats.hourly_distribution || [];
      let busiest = null;
      for (const h of hourly) if (!busiest || h.count > busiest.count) busiest = h;
      cards.append(el("div", { class: "card" },
        el("div", { class: "label" }, "Busiest hour (UTC)"),
        el("div", { class: "value" }, busiest && busiest.count ? pad(busiest.hour) + ":00" : "–"),
        el("div", { class: "sub" }, busiest && busiest.count ? fmtInt(busiest.count) + " changes" : "no changes")));
      const last = recent && recent[0];
      cards.append(el("div", { class: "card" },
        el("div", { class: "label" }, "Last change"),
        el("div", { class: "value", title: last ? last.timestamp : null }, last ? ago(last.timestamp) : "–"),
        el("div", { class: "sub" }, last ? fmtTime(last.timestamp) + " · " + last.operation + " " + pkLabel(last.primary_key) : "none in range")));

      // Trend chart.
      $("trend-bucket").textContent = bucket ? "per " + bucket : "";
      const xs = trend.map((p) => Number(p.epoch));
      const trendEl = $("trend-chart");
      if (!xs.length) {
        if (charts.trend) { charts.trend.destroy(); delete charts.trend; }
        clear(trendEl).append(el("div", { class: "chart-empty" }, "No changes in this range."));
      } else {
        const bucketSecs = { minute: 60, hour: 3600, day: 86400 }[bucket] || 60;
        drawOpsChart("trend", trendEl, xs, trend.map((p) => Number(p.INSERT)), trend.map((p) => Number(p.UPDATE)),
          trend.map((p) => Number(p.DELETE)), bucketSecs);
      }

      // Hour-of-day bars.
      const hours = Array.from({ length: 24 }, (_, i) => i);
      const counts = hours.map((h) => {
        const e = hourly.find((x) => x.hour === h);
        return e ? Number(e.count) : 0;
      });
      drawChart("hourly", $("hourly-chart"), (c) => ({
        scales: { x: { time: false, range: [-0.5, 23.5] } },
        legend: { show: true },
        cursor: { points: { show: false } },
        axes: [
          axis(c, { values: (u, splits) => splits.map((s) => (Number.isInteger(s) ? pad(s) : "")), incrs: [1, 2, 3, 6] }),
          axis(c, { size: 56 }),
        ],
        series: [
          { label: "Hour", value: (u, v) => (v === null || v === undefined ? "–" : pad(v) + ":00") },
          {
            label: "Changes", stroke: c.accent, fill: withAlpha(c.accent, 0.55), width: 1,
            paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
            points: { show: false },
          },
        ],
      }), [hours, counts]);

      // Per-day table.
      const dailyBody = clear($("daily-grid").querySelector("tbody"));
      const days = Object.entries(stats.daily_stats || {}).sort((a, b) => (a[0] < b[0] ? 1 : -1));
      for (const [day, c] of days) {
        dailyBody.append(el("tr", null, el("td", null, day), el("td", null, fmtInt(c.INSERT)), el("td", null, fmtInt(c.UPDATE)),
          el("td", null, fmtInt(c.DELETE)), el("td", null, el("b", null, fmtInt(c.total)))));
      }
      if (!days.length) dailyBody.append(el("tr", null, el("td", { colspan: 5, class: "muted" }, "No changes in this range.")));

      // Latest changes.
      const recentBody = clear($("recent-grid").querySelector("tbody"));
      for (const c of recent || []) recentBody.append(changeRow(c, { noTable: true, noId: true }));
      if (!recent || !recent.length) recentBody.append(el("tr", null, el("td", { colspan: 4, class: "muted" }, "No changes in this range.")));
    },
    rerender() { this.render(); },
  };

  $("table-filter").addEventListener("input", () => pages.tables.renderList());
  $("table-ranges").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b || !pages.tables.current) return;
    pages.tables.range = b.dataset.range;
    const { database, table } = pages.tables.current;
    location.hash = tableHref(database, table) + "?range=" + b.dataset.range;
  });

  // Row history: the timeline of one row with before/after per change.
  pages.history = {
    async enter(args) {
      await loadTables();
      const dbSel = $("history-db");
      fillSelect(dbSel, databases(), args[0] || dbSel.value);
      if (args[0] && ![...dbSel.options].some((o) => o.value === args[0])) {
        dbSel.append(el("option", { value: args[0] }, args[0]));
        dbSel.value = args[0];
      }
      this.fillTables(args[1]);
      if (args.length >= 3) {
        $("history-pk").value = args[2];
        await this.load(args[0], args[1], args[2]);
      } else {
        clear($("history-result")).append(el("p", { class: "empty" },
          "Enter a primary key to see every change of that row, oldest first, with before and after values."));
      }
    },
    fillTables(keep) {
      const db = $("history-db").value;
      const tables = state.tables.filter((t) => t.database === db).map((t) => t.table);
      if (keep && !tables.includes(keep)) tables.push(keep);
      fillSelect($("history-table"), tables, keep);
    },
    async load(db, table, pk) {
      const out = clear($("history-result"));
      const path = "/api/records/" + encodeURIComponent(db) + "/" + encodeURIComponent(table) + "/" + encodeURIComponent(pk) + "/history";
      let entries;
      try {
        ({ body: entries } = await api(path, { limit: 1000 }));
      } catch (e) {
        out.append(errorBox(e));
        return;
      }
      this.last = { db, table, pk, entries };
      this.render();
    },
    render() {
      if (!this.last) return;
      const { db, table, pk, entries } = this.last;
      const out = clear($("history-result"));
      out.append(el("div", { class: "history-head" },
        el("h1", null, db + "." + table + " ", el("span", { class: "mono" }, pk)),
        el("span", { class: "muted" }, entries.length + (entries.length === 1 ? " change" : " changes")),
        el("a", { class: "muted", href: tableHref(db, table) }, "table overview →")));
      if (!entries.length) {
        out.append(el("p", { class: "empty" }, "No stored changes for this key."));
        return;
      }
      // Replay the history to know the whole row before and after each
      // change (the API lists only the changed columns of an UPDATE).
      let row = null;
      const steps = entries.map((e) => {
        const changes = e.changes || {};
        let before = row ? Object.assign({}, row) : null;
        let after;
        if (e.operation === "INSERT") {
          before = null;
          after = {};
          for (const [k, p] of Object.entries(changes)) after[k] = p.new;
        } else if (e.operation === "DELETE") {
          before = before || {};
          for (const [k, p] of Object.entries(changes)) before[k] = p.old;
          after = null;
        } else {
          before = before || {};
          for (const [k, p] of Object.entries(changes)) if (!(k in before)) before[k] = p.old;
          after = Object.assign({}, before);
          for (const [k, p] of Object.entries(changes)) after[k] = p.new;
        }
        row = after;
        return { e, before, after, changed: new Set(Object.keys(changes)) };
      });
      const timeline = el("div", { class: "timeline" });
      for (const s of steps.reverse()) timeline.append(this.entry(s));
      out.append(timeline);
    },
    entry(s) {
      const { e, before, after, changed } = s;
      const body = el("div", { class: "entry-body" }, this.diff(before, after, changed, e.operation));
      const fullBtn = el("button", { type: "button", class: "ghost", title: "The stored before/after images of this change" }, "Stored images");
      fullBtn.addEventListener("click", async () => {
        fullBtn.disabled = true;
        try {
          const { body: c } = await api("/api/changes/" + encodeURIComponent(e.id));
          clear(body).append(diffTable(c.old_data, c.new_data, c.operation));
        } catch (err) {
          body.prepend(errorBox(err));
        }
      });
      return el("div", { class: "entry panel " + e.operation, dataset: { id: e.id, op: e.operation } },
        el("div", { class: "panel-head" },
          opBadge(e.operation),
          el("b", { title: e.timestamp }, fmtTime(e.timestamp)),
          el("span", { class: "muted" }, e.operation === "UPDATE" ? changed.size + (changed.size === 1 ? " column changed" : " columns changed") : ""),
          el("span", { class: "meta" },
            e.gtid ? el("span", null, "GTID ", el("code", null, e.gtid)) : null,
            el("code", null, e.id),
            fullBtn)),
        body);
    },
    diff(before, after, changed, op) {
      const cols = [];
      for (const k of Object.keys(before || {})) if (!cols.includes(k)) cols.push(k);
      for (const k of Object.keys(after || {})) if (!cols.includes(k)) cols.push(k);
      // Changed columns first: that is what the eye looks for.
      cols.sort((a, b) => (changed.has(b) ? 1 : 0) - (changed.has(a) ? 1 : 0));
      const tbody = el("tbody");
      for (const col of cols) {
        const isChanged = changed.has(col);
        tbody.append(el("tr", { class: isChanged ? "changed" : null, dataset: { column: col } },
          el("td", { class: "colname" }, col),
          el("td", { class: "before" + (isChanged && before ? " changed" : "") }, before ? valueNode(before[col]) : el("span", { class: "muted" }, op === "INSERT" ? "(row did not exist)" : "")),
          el("td", { class: "after" + (isChanged && after ? " changed" : "") }, after ? valueNode(after[col]) : el("span", { class: "muted" }, op === "DELETE" ? "(row deleted)" : ""))));
      }
      return el("table", { class: "diff" },
        el("thead", null, el("tr", null, el("th", null, "Column"), el("th", null, "Before"), el("th", null, "After"))),
        tbody);
    },
    rerender() { this.render(); },
  };

  $("history-db").addEventListener("change", () => pages.history.fillTables());
  $("history-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const db = $("history-db").value, table = $("history-table").value, pk = $("history-pk").value;
    if (!db || !table || pk === "") return;
    location.hash = "#/history/" + encodeURIComponent(db) + "/" + encodeURIComponent(table) + "/" + encodeURIComponent(pk);
  });

  // Alerts: stored alerts, newest first, plus those arriving live.
  pages.alerts = {
    items: null,
    async enter() {
      state.unseenAlerts = 0;
      $("alert-badge").hidden = true;
      await this.load();
    },
    async load() {
      const tbody = clear($("alerts-grid").querySelector("tbody"));
      try {
        const { body } = await api("/api/alerts", {
          time_range: $("alerts-range").value || "all",
          name: $("alerts-name").value.trim(),
          limit: 500,
        });
        this.items = body || [];
      } catch (e) {
        this.items = [];
        tbody.append(el("tr", null, el("td", { colspan: 6 }, errorBox(e))));
        return;
      }
      this.render();
    },
    row(a, fresh) {
      const pk = a.details && a.details.primary_key;
      const target = a.database && a.table && pk ? el("a", { href: historyHref(a.database, a.table, pk) }, a.change_id || pkLabel(pk)) : a.change_id || "";
      return el("tr", { class: fresh ? "fresh" : null, dataset: { name: a.name } },
        timeCell(a.timestamp),
        el("td", null, el("span", { class: "prio " + a.priority }, a.priority)),
        el("td", null, el("b", null, a.name), a.kind !== "rule" && a.kind !== a.name ? el("span", { class: "muted" }, " (" + a.kind + ")") : null,
          a.kind === "rule" ? null : el("span", { class: "muted" }, " threshold")),
        el("td", { class: "tbl" }, a.database && a.table ? el("a", { href: tableHref(a.database, a.table) }, a.database + "." + a.table) : el("span", { class: "muted" }, "–")),
        el("td", null, a.message),
        el("td", { class: "id" }, target));
    },
    render() {
      const tbody = clear($("alerts-grid").querySelector("tbody"));
      for (const a of this.items || []) tbody.append(this.row(a));
      $("alerts-empty").hidden = (this.items || []).length > 0;
      $("alerts-count").textContent = plural((this.items || []).length, "alert");
    },
    prepend(a) {
      if (!this.items) return;
      this.items.unshift(a);
      if (state.page === "alerts") {
        $("alerts-grid").querySelector("tbody").prepend(this.row(a, true));
        $("alerts-empty").hidden = true;
        $("alerts-count").textContent = plural(this.items.length, "alert");
      }
    },
    rerender() { this.render(); },
  };
  $("alerts-refresh").addEventListener("click", () => pages.alerts.load());
  $("alerts-range").addEventListener("change", () => pages.alerts.load());
  $("alerts-name").addEventListener("keydown", (ev) => { if (ev.key === "Enter") pages.alerts.load(); });

  // Status: position, lag, throughput, stores.
  pages.status = {
    async enter() {
      await pollStatus();
      this.render(true);
    },
    render(redrawCharts) {
      const s = lastStatus;
      if (!s) return;
      const cards = clear($("status-cards"));
      const card = (label, value, sub, cls, id) =>
        el("div", { class: "card" + (cls ? " " + cls : "") }, el("div", { class: "label" }, label),
          el("div", { class: "value", id }, value), sub ? el("div", { class: "sub" }, sub) : null);
      const lag = s.lag_seconds;
      cards.append(card("State", s.state, s.mode + (s.source ? " · " + s.source : ""), stateClass(s) === "bad" ? "bad" : stateClass(s) === "warn" ? "warn" : "", "status-state"));
      cards.append(card("Lag", lag === null || lag === undefined ? "–" : fmtDuration(lag), s.last_event_time ? "last event " + fmtTime(s.last_event_time) : "no event yet", lag > 300 ? "bad" : lag > 60 ? "warn" : "", "status-lag"));
      cards.append(card("Events / s", fmtRate(s.events_per_second), fmtInt(s.events_total) + " total", "", "status-eps"));
      cards.append(card("Rows / s", fmtRate(s.rows_per_second), fmtInt(s.rows_total) + " total", "", "status-rps"));
      cards.append(card("Uptime", s.uptime_seconds === null || s.uptime_seconds === undefined ? "–" : fmtDuration(s.uptime_seconds), s.started_at ? "since " + fmtTime(s.started_at) : "", ""));
      cards.append(card("Live viewers", fmtInt(s.live_subscribers), "version " + s.version, ""));
      if (s.last_error) cards.append(card("Last error", "error", s.last_error, "bad"));

      const pos = clear($("status-position"));
      const kv = (k, v) => { pos.append(el("dt", null, k), el("dd", null, v === null || v === undefined || v === "" ? "–" : String(v))); };
      const p = s.position || {};
      kv("Binlog file", p.binlog_file);
      kv("Position", p.binlog_pos === undefined ? null : fmtInt(p.binlog_pos));
      kv("GTID set", p.gtid_set);
      kv("From", p.source);
      kv("Source", s.source);
      kv("Last event", s.last_event_time ? fmtTime(s.last_event_time) : null);
      kv("Server time", fmtTime(s.now));

      const tbody = clear($("stores-grid").querySelector("tbody"));
      for (const st of s.stores || []) {
        const w = st.writes || {};
        tbody.append(el("tr", null,
          el("td", null, el("b", null, st.name)),
          el("td", null, st.backend || "–"),
          el("td", null, el("span", { class: "health " + (st.ok ? "ok" : "bad") }, st.ok ? "healthy" : "failing")),
          el("td", { class: "num" }, fmtInt(st.changes)),
          el("td", { class: "num" }, fmtBytes(st.size_bytes)),
          el("td", { class: "num" }, fmtInt(w.batches)),
          el("td", { class: "num" }, w.last_write ? fmtTime(new Date(w.last_write * 1000).toISOString()) : "–"),
          el("td", { class: "num" }, w.last_latency_ms === null || w.last_latency_ms === undefined ? "–" : w.last_latency_ms.toFixed(1) + " ms"),
          el("td", null, st.error || w.last_error || "")));
      }
      this.renderDelivery(s.alert_delivery);
      if (redrawCharts || !charts.rate || !charts.lag) this.drawCharts();
      else {
        charts.rate.setData([statusHistory.t, statusHistory.eps, statusHistory.rps]);
        charts.lag.setData([statusHistory.t, statusHistory.lag]);
      }
    },
    /** Alert delivery counters (alerting's DeliveryStats), when the
     * server reports them. */
    renderDelivery(d) {
      $("delivery-panel").hidden = !d;
      if (!d) return;
      const parts = [fmtInt(d.accepted) + " raised"];
      if (d.deduplicated) parts.push(fmtInt(d.deduplicated) + " duplicates");
      if (d.rate_limited) parts.push(fmtInt(d.rate_limited) + " held back by rate limit");
      if (d.dropped) parts.push(fmtInt(d.dropped) + " dropped (queue full)");
      $("delivery-summary").textContent = parts.join(" · ");
      const tbody = clear($("delivery-grid").querySelector("tbody"));
      for (const ch of d.channels || []) {
        const st = ch.retrying ? ["warn", "retrying"] : ch.last_failed_at && (!ch.last_delivered_at || ch.last_failed_at > ch.last_delivered_at) ? ["bad", "failing"] : ["ok", "ok"];
        tbody.append(el("tr", { dataset: { channel: ch.name } },
          el("td", null, el("b", null, ch.name)),
          el("td", null, ch.kind),
          el("td", null, el("span", { class: "health " + st[0] }, st[1])),
          el("td", { class: "num" }, fmtInt(ch.delivered)),
          el("td", { class: "num" }, fmtInt(ch.failed)),
          el("td", { class: "num" }, fmtInt(ch.retries)),
          el("td", { class: "num" }, fmtInt(ch.dropped)),
          el("td", { class: "num" }, fmtInt(ch.queued)),
          el("td", { class: "num" }, ch.last_delivered_at ? fmtTime(new Date(ch.last_delivered_at * 1000).toISOString()) : "–"),
          el("td", null, ch.last_error || "")));
      }
      if (!(d.channels || []).length) tbody.append(el("tr", null, el("td", { colspan: 10, class: "muted" }, "No delivering channel configured: alerts are stored and logged.")));
    },
    drawCharts() {
      const series = (c, label, color) => ({ label, stroke: color, fill: withAlpha(color, 0.1), width: 1.5, points: { show: false } });
      const base = (c) => ({
        tzDate,
        scales: { x: timeScale() },
        axes: [axis(c, { values: timeAxisValues }), axis(c, { size: 56 })],
      });
      drawChart("rate", $("rate-chart"), (c) => Object.assign(base(c), {
        series: [{}, series(c, "events/s", c.accent), series(c, "rows/s", c.insert)],
      }), [statusHistory.t, statusHistory.eps, statusHistory.rps]);
      drawChart("lag", $("lag-chart"), (c) => Object.assign(base(c), {
        series: [{}, series(c, "lag (s)", c.update)],
      }), [statusHistory.t, statusHistory.lag]);
    },
    rerender() { this.render(true); },
  };

  // ---------------------------------------------------------------------
  // Routing: #/page/arg/arg?query

  function route() {
    const hash = location.hash.replace(/^#\/?/, "");
    const [pathPart, queryPart] = hash.split("?");
    const parts = pathPart.split("/").filter((p) => p !== "").map((p) => {
      try { return decodeURIComponent(p); } catch (e) { return p; }
    });
    const page = pages[parts[0]] ? parts[0] : "live";
    const query = Object.fromEntries(new URLSearchParams(queryPart || ""));
    state.page = page;
    for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== "page-" + page;
    for (const a of document.querySelectorAll(".tabs a")) a.classList.toggle("active", a.dataset.page === page);
    document.title = page.charAt(0).toUpperCase() + page.slice(1) + " · binlog-analyzer";
    Promise.resolve(pages[page].enter(parts.slice(1), query)).catch((e) => toast("Error", e.message));
  }

  window.addEventListener("hashchange", route);

  function start() {
    applyTheme();
    $("tz-toggle").textContent = state.tz === "utc" ? "UTC" : "Local";
    pollStatus();
    setInterval(pollStatus, 2000);
    // The stream runs from the first page on, so alerts reach the badge
    // and toasts whatever page is open.
    loadTables().then(() => { refreshLiveSelects(); live.connect(); });
    route();
    document.body.dataset.ready = "true";
  }

  start();
})();
